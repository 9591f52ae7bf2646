/**
 * The volunteer page's entry point: makes (or finds) the volunteer's identity, starts the agent
 * in its dedicated worker (browser-worker/agent-worker.ts: hidden pages' timers are throttled,
 * a worker's are not) against the coordinator that served the page, renders what the agent
 * reports, and forwards the controls.
 */
import * as Comlink from 'comlink';
import type { AgentSnapshot } from './agent.js';
import type { AgentWorkerApi } from './agent-worker.js';
import { BatchWatch } from './batch-watch.js';
import { safeLocalStorage, volunteerId } from './identity.js';
import { VolunteerView } from './view.js';

const THREADS_KEY = 'swarmgrid.volunteer.threads';
/**
 * Render period of the page, ms: one frame a second of DOM writes. Every frame costs the whole
 * pipeline (style, layout, paint, raster, compositing: on the CPU without a GPU); at 4 frames a
 * second it took about 1.5 s of CPU per 10 s of π (BENCH_THREADS=1 in test/bench/browser-vs-node.mjs).
 */
const RENDER_MS = 1000;

function initialThreads(cores: number): number {
  // ?threads=N for kiosks and benchmarks; then the volunteer's last choice; then a default.
  const fromUrl = Number(new URLSearchParams(location.search).get('threads'));
  if (Number.isInteger(fromUrl) && fromUrl >= 1) return Math.min(fromUrl, cores);
  const kept = Number(safeLocalStorage()?.getItem(THREADS_KEY));
  if (Number.isInteger(kept) && kept >= 1) return Math.min(kept, cores);
  // Like the node worker: all cores but one, so the volunteer's own work stays snappy.
  return Math.max(1, cores - 1);
}

function main(): void {
  const id = volunteerId();
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  const threads = initialThreads(cores);
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // A --private coordinator admits volunteers with a join key: its operator hands out the page's
  // link with `?token=…`, passed on to the WebSocket as is (never stored).
  const token = new URLSearchParams(location.search).get('token');
  // This tab's own nonce: its Goodbye beacon names it, so closing one tab leaves the volunteer's
  // other tabs (same id, same localStorage) their tasks.
  const tab = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const credentials = `id=${id}&tab=${tab}${token ? `&token=${encodeURIComponent(token)}` : ''}`;
  const agentWorker = new Worker(new URL('agent-worker.js', location.href).href, { name: 'swarmgrid-agent' });
  const agent = Comlink.wrap<AgentWorkerApi>(agentWorker);
  void agent.start({
    url: `${scheme}//${location.host}/v1/volunteer?${credentials}`,
    threads,
    workerUrl: new URL('task-worker.js', location.href).href,
  });
  const view = new VolunteerView(id);
  const watch = new BatchWatch(() => void tick());
  let last: AgentSnapshot | null = null;
  // The page renders on a clock, never once per task: tasks of a few milliseconds would repaint it
  // hundreds of times a second, and with software compositing the repaints took up to a core from
  // the workers (issue 13). Each tick asks the agent for a snapshot and writes only what changed;
  // a hidden page renders nothing until it is shown again.
  let rendering = false;
  async function tick(): Promise<void> {
    if (document.visibilityState === 'hidden' || rendering) return;
    rendering = true;
    try {
      last = await agent.snapshot();
      if (!last) return;
      if (last.current) watch.watch(last.current.batchId);
      view.render(last, watch.latest);
    } finally {
      rendering = false;
    }
  }
  setInterval(() => void tick(), RENDER_MS);
  document.addEventListener('visibilitychange', () => void tick());

  const slider = document.getElementById('threads') as HTMLInputElement;
  const sliderValue = document.getElementById('threads-value') as HTMLOutputElement;
  slider.max = String(cores);
  slider.value = String(threads);
  slider.disabled = cores === 1;
  sliderValue.textContent = `${threads} of ${cores}`;
  slider.addEventListener('input', () => {
    sliderValue.textContent = `${slider.value} of ${cores}`;
  });
  slider.addEventListener('change', () => {
    const n = Number(slider.value);
    void agent.setThreads(n).then(tick);
    try {
      safeLocalStorage()?.setItem(THREADS_KEY, String(n));
    } catch {
      // Not remembered: harmless.
    }
  });

  document.getElementById('pause')!.addEventListener('click', () => {
    void (last?.paused ? agent.resume() : agent.pause()).then(tick);
  });

  // Closing the tab loses nothing: Goodbye hands the held tasks back for immediate re-issue (and
  // if it never gets out, the leases expire and the coordinator re-issues them anyway). The agent
  // sends a Goodbye frame if its worker lives long enough; the browser may end the worker with
  // the page first, so the page also sends the Goodbye as a beacon, which browsers deliver even
  // as the page goes away (POST /v1/volunteer/goodbye, docs/BROWSER.md).
  let left = false;
  const leave = (): void => {
    if (left) return;
    left = true;
    navigator.sendBeacon(`/v1/volunteer/goodbye?${credentials}`, 'volunteer closed the page');
    void agent.leave('volunteer closed the page');
  };
  addEventListener('pagehide', leave);
  addEventListener('beforeunload', leave);
  // Restored from the back/forward cache after a Goodbye: start afresh.
  addEventListener('pageshow', (ev) => {
    if (ev.persisted && left) location.reload();
  });

  void tick();
}

main();
