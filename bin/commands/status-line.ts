import type { WorkerAgent } from '../../worker/agent.js';

const STATES = { working: 'working', paused: 'paused (busy)', waiting: 'waiting for work' } as const;
/** Tasks per minute are counted over about this long. */
const RATE_WINDOW_MS = 60_000;

/** The job kinds of the tasks this worker holds (running first), e.g. "pi, mandelbrot". */
function kindsHeld(agent: WorkerAgent): string {
  const running = new Set<string>();
  const waiting = new Set<string>();
  for (const link of agent.links.values()) {
    for (const held of link.held.values()) {
      const kind = (held.task.kind ?? '?').split('@')[0]!;
      (held.state === 'running' ? running : waiting).add(kind);
    }
  }
  return [...new Set([...running, ...waiting])].join(', ');
}

/**
 * The one-line status a volunteer sees on a terminal: what it computes, how fast, how much it
 * has given. Returns a function that stops it. Start it after any banner: it owns the line the
 * cursor is on, and a later write would be glued to it.
 */
export function startStatusLine(agent: WorkerAgent): () => void {
  const samples: { at: number; done: number }[] = [];
  const render = () => {
    const now = performance.now();
    samples.push({ at: now, done: agent.stats.tasksDone });
    while (samples.length > 2 && now - samples[1]!.at >= RATE_WINDOW_MS) samples.shift();
    const first = samples[0]!;
    const perMin = now - first.at >= 1000 ? ((agent.stats.tasksDone - first.done) * 60_000) / (now - first.at) : 0;
    const coordinators = [...agent.links.values()].filter((l) => l.connected).length;
    const kinds = kindsHeld(agent);
    const state = agent.state === 'working' && kinds ? `working on ${kinds}` : STATES[agent.state];
    // CPU given = the CPU time of the task threads and processes, as each task reports it: not
    // this process's protocol, discovery and start-up time, which the volunteer did not give.
    const load = agent.hostLoad === undefined ? '' : ` | other programs ${Math.round(agent.hostLoad * 100)}% CPU`;
    const line = `${state} | ${perMin.toFixed(perMin < 10 ? 1 : 0)} tasks/min | tasks done ${agent.stats.tasksDone} | CPU given ${(agent.stats.cpuMs / 1000).toFixed(1)} s | coordinators ${coordinators}${load}`;
    process.stdout.write(`\r\x1b[2K${line}`);
  };
  const timer = setInterval(render, 500);
  render();
  return () => {
    clearInterval(timer);
    process.stdout.write('\n');
  };
}
