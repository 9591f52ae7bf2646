import type { WorkerAgent } from '../../worker/agent.js';

/** The one-line status a volunteer sees on a terminal; returns a function that stops it. */
export function startStatusLine(agent: WorkerAgent): () => void {
  const render = () => {
    const coordinators = [...agent.links.values()].filter((l) => l.connected).length;
    const state = agent.state === 'paused' ? 'paused (busy)' : agent.state === 'working' ? 'working' : 'waiting for work';
    const line = `${state} | coordinators ${coordinators} | tasks done ${agent.stats.tasksDone} | CPU given ${(agent.stats.cpuMs / 1000).toFixed(1)} s`;
    process.stdout.write(`\r\x1b[2K${line}`);
  };
  const timer = setInterval(render, 500);
  render();
  return () => {
    clearInterval(timer);
    process.stdout.write('\n');
  };
}
