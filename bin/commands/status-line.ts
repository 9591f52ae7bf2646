import type { WorkerAgent } from '../../worker/agent.js';

const STATES = { working: 'working', paused: 'paused (busy)', waiting: 'waiting for work' } as const;

/** The one-line status a volunteer sees on a terminal; returns a function that stops it. */
export function startStatusLine(agent: WorkerAgent): () => void {
  const render = () => {
    const coordinators = [...agent.links.values()].filter((l) => l.connected).length;
    // CPU given = this process's CPU time: the task threads plus the little the protocol costs.
    // (Per-task times are wall times on Node < 23.9, which overstate it on a busy machine.)
    const cpu = process.cpuUsage();
    const load = agent.hostLoad === undefined ? '' : ` | other programs ${Math.round(agent.hostLoad * 100)}% CPU`;
    const line = `${STATES[agent.state]} | coordinators ${coordinators} | tasks done ${agent.stats.tasksDone} | CPU given ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s${load}`;
    process.stdout.write(`\r\x1b[2K${line}`);
  };
  const timer = setInterval(render, 500);
  render();
  return () => {
    clearInterval(timer);
    process.stdout.write('\n');
  };
}
