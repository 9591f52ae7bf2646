/**
 * Entry of a task process (task-processes.ts): runs the calls its parent sends, one at a time,
 * with the same code as a task thread, and answers each with its result.
 */
import { Worker } from 'node:worker_threads';
import run, { type ThreadBatch, type ThreadTask } from './task-thread.js';

// A worker killed outright (kill -9, the OOM killer) cannot kill its task processes, and one
// running a task that never returns would never see the IPC channel close: a watchdog thread
// (it runs while the main thread spins) ends this process once its parent is gone.
const watchdog = new Worker(`
  const { workerData } = require('node:worker_threads');
  setInterval(() => {
    let gone = process.ppid !== workerData.ppid;
    try { process.kill(workerData.ppid, 0); } catch { gone = true; }
    if (gone) process.kill(process.pid, 'SIGKILL');
  }, 1000);
`, { eval: true, workerData: { ppid: process.ppid }, resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 } });
watchdog.unref();

process.on('message', (msg: { call: ThreadTask | ThreadBatch }) => {
  void run(msg.call).then((result) => process.send!({ result }));
});
// Loaded: the parent starts a task's clock from here.
process.send!({ ready: true });
// The worker went away: nothing left to answer to.
process.on('disconnect', () => process.exit(0));
