/**
 * Entry of a task process (task-processes.ts): runs the calls its parent sends, one at a time,
 * with the same code as a task thread, and answers each with its result.
 */
import run, { type ThreadBatch, type ThreadTask } from './task-thread.js';

process.on('message', (msg: { call: ThreadTask | ThreadBatch }) => {
  void run(msg.call).then((result) => process.send!({ result }));
});
// Loaded: the parent starts a task's clock from here.
process.send!({ ready: true });
// The worker went away (killed outright): nothing left to answer to.
process.on('disconnect', () => process.exit(0));
