/**
 * The volunteer page's entry point: makes (or finds) the volunteer's identity, starts the agent
 * against the coordinator that served the page, and wires the controls.
 */
import { BrowserAgent } from './agent.js';
import { BatchWatch } from './batch-watch.js';
import { safeLocalStorage, volunteerId } from './identity.js';
import { VolunteerView } from './view.js';

const THREADS_KEY = 'swarmgrid.volunteer.threads';
/** Render period of the page, ms: at most 4 frames a second of DOM writes. */
const RENDER_MS = 250;

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
  const agent = new BrowserAgent({
    url: `${scheme}//${location.host}/v1/volunteer?id=${id}${token ? `&token=${encodeURIComponent(token)}` : ''}`,
    threads,
    workerUrl: new URL('task-worker.js', location.href).href,
  });
  const view = new VolunteerView(id);
  let dirty = true;
  const watch = new BatchWatch(() => { dirty = true; });
  const render = (): void => {
    const snapshot = agent.snapshot();
    if (snapshot.current) watch.watch(snapshot.current.batchId);
    view.render(snapshot, watch.latest);
  };
  // The page renders on a clock, never once per task: tasks of a few milliseconds would repaint it
  // hundreds of times a second, and with software compositing the repaints took up to a core from
  // the workers (issue 13). Changes show within RENDER_MS; the rate, countdowns and batch progress
  // move once a second without events; a hidden page renders nothing until it is shown again.
  let renderedAt = 0;
  agent.onChange(() => { dirty = true; });
  const tick = (): void => {
    if (document.visibilityState === 'hidden') return;
    if (!dirty && Date.now() - renderedAt < 1000) return;
    dirty = false;
    renderedAt = Date.now();
    render();
  };
  setInterval(tick, RENDER_MS);
  document.addEventListener('visibilitychange', tick);

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
    agent.setThreads(n);
    try {
      safeLocalStorage()?.setItem(THREADS_KEY, String(n));
    } catch {
      // Not remembered: harmless.
    }
  });

  document.getElementById('pause')!.addEventListener('click', () => {
    if (agent.paused) agent.resume();
    else agent.pause();
  });

  // Closing the tab loses nothing: Goodbye hands the held tasks back for immediate re-issue (and
  // if it never gets out, the leases expire and the coordinator re-issues them anyway).
  let left = false;
  const leave = (): void => {
    if (left) return;
    left = true;
    agent.leave('volunteer closed the page');
  };
  addEventListener('pagehide', leave);
  addEventListener('beforeunload', leave);
  // Restored from the back/forward cache after a Goodbye: start afresh.
  addEventListener('pageshow', (ev) => {
    if (ev.persisted && left) location.reload();
  });

  agent.start();
  render();
}

main();
