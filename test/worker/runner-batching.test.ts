/**
 * The runner batches short tasks (worker/runner.ts): once a kind is known to be quick, the agent
 * may hand over more tasks than threads and they share thread calls, with every result still its
 * own; a cancelled task settles at once; slow kinds run one per call, and a pack that overruns
 * its limit (its own, or the shortest of its tasks') is split and its tasks run again alone.
 * Uses the built runner (dist/), whose thread file is compiled JavaScript.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Runner } from '../../dist/worker/runner.js';
import { encodeInput } from '../../dist/jobs/codec.js';

const SPIN = fileURLToPath(new URL('../fixtures/spin-kind.mjs', import.meta.url));
const echoInput = (i: number) => encodeInput({ value: i, pad: 'x'.repeat(i % 7) });
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('runner batching', () => {
  let runner: Runner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
  });

  it('hands out more slots and prefetch for a quick kind, and every batched task gets its own output', async () => {
    runner = new Runner({ threads: 1 });
    expect(runner.slots).toBe(1);
    expect(runner.prefetch(2)).toBe(2);
    const first = await runner.run({ kind: 'echo', input: echoInput(0), timeoutMs: 0, memoryMb: 0 });
    expect(first.ok).toBe(true);
    expect(runner.slots).toBeGreaterThan(1);
    expect(runner.prefetch(2)).toBeGreaterThan(2);
    // Inputs cut from one shared buffer, as frames deliver them.
    const inputs = Array.from({ length: 300 }, (_, i) => echoInput(i + 1));
    const shared = Buffer.concat(inputs);
    let off = 0;
    const views = inputs.map((b) => shared.subarray(off, (off += b.byteLength)));
    // Every task of a thread call is started in one synchronous run (onStart): count the runs.
    // On one thread, unbatched, that is one call per task.
    let calls = 0;
    let inCall = false;
    const onStart = () => {
      if (inCall) return;
      calls++;
      inCall = true;
      queueMicrotask(() => { inCall = false; });
    };
    const outcomes = await Promise.all(views.map((input) => runner!.run({ kind: 'echo', input, timeoutMs: 0, memoryMb: 0, onStart })));
    outcomes.forEach((o, i) => {
      expect(o.ok).toBe(true);
      if (o.ok) expect(text(o.output)).toBe(text(inputs[i]!));
    });
    expect(runner.running).toBe(0);
    console.log(`300 quick tasks on one thread: ${calls} thread calls`);
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(30); // at least 10 tasks a call on average
  });

  it('settles a cancelled task at once, whether queued or batched, and runs the others', async () => {
    runner = new Runner({ threads: 1 });
    await runner.run({ kind: 'echo', input: echoInput(0), timeoutMs: 0, memoryMb: 0 });
    const controllers = Array.from({ length: 50 }, () => new AbortController());
    const runs = controllers.map((c, i) => runner!.run({ kind: 'echo', input: echoInput(i), timeoutMs: 0, memoryMb: 0, signal: c.signal }));
    controllers[3]!.abort();
    await Promise.resolve(); // the batch has left by now: this one is cancelled in flight
    controllers[40]!.abort();
    const outcomes = await Promise.all(runs);
    expect(outcomes[3]).toMatchObject({ ok: false, errorCode: 'aborted' });
    expect(outcomes[40]).toMatchObject({ ok: false, errorCode: 'aborted' });
    expect(outcomes.filter((o) => o.ok)).toHaveLength(48);
  });

  it('reports when each task enters a thread: until then it can be handed back unrun', async () => {
    runner = new Runner({ threads: 1, maxBatch: 4 });
    await runner.run({ kind: 'echo', input: echoInput(0), timeoutMs: 0, memoryMb: 0 });
    const started = new Set<number>();
    const controllers = Array.from({ length: 40 }, () => new AbortController());
    const runs = controllers.map((c, i) => runner!.run({ kind: 'echo', input: echoInput(i), timeoutMs: 0, memoryMb: 0, signal: c.signal, onStart: () => started.add(i) }));
    await Promise.resolve(); // the first call (4 tasks) has left; the rest wait in the runner
    expect([...started].sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    for (let i = 20; i < 40; i++) controllers[i]!.abort(); // handed back, as a pause does
    const outcomes = await Promise.all(runs);
    expect(outcomes.slice(20).every((o) => !o.ok && o.errorCode === 'aborted')).toBe(true);
    expect(outcomes.slice(0, 20).every((o) => o.ok)).toBe(true);
    for (let i = 20; i < 40; i++) expect(started.has(i)).toBe(false);
  });

  it('stops batching a kind at once when one of its tasks runs too long to batch', async () => {
    // Normal priority and a long batchMs (tasks over 500 ms are "too long"): robust on a busy machine.
    runner = new Runner({ threads: 1, batchMs: 1000, niceness: 0 });
    const quick = (seed: number) => runner!.run({ kind: 'pi', input: encodeInput({ seed, samples: 1000 }), timeoutMs: 0, memoryMb: 0 });
    await quick(1);
    expect(runner.slots).toBeGreaterThan(1);
    // A burst with one long task among quick ones: they share a call, and the long one is seen.
    const burst = [...Array.from({ length: 8 }, (_, i) => quick(10 + i)),
      runner.run({ kind: 'pi', input: encodeInput({ seed: 2, samples: 100_000_000 }), timeoutMs: 0, memoryMb: 0 })];
    for (const o of await Promise.all(burst)) expect(o.ok).toBe(true);
    expect(runner.slots).toBe(1);
  });

  it('a batch stopped as a whole puts its tasks back to wait (onWait), then runs each alone', async () => {
    // A ceiling every process is over: the first check stops the batch (~40 ms of work); the 2 s
    // of grace after a stop let its tasks then run alone.
    runner = new Runner({ threads: 1, maxRssMb: 1, rssCheckMs: 5, batchMs: 1000, niceness: 0 });
    const pi = (seed: number, samples: number, extra = {}) => runner!.run({ kind: 'pi', input: encodeInput({ seed, samples }), timeoutMs: 0, memoryMb: 0, ...extra });
    // Teaches the runner that pi is quick. On a busy machine the ceiling may stop even this one;
    // its grace period is over before the batch starts.
    await pi(1, 1000);
    await new Promise((r) => setTimeout(r, 2200));
    const seen: string[][] = Array.from({ length: 6 }, () => []);
    const outcomes = await Promise.all(seen.map((log, i) => pi(10 + i, 1_000_000, { onStart: () => log.push('start'), onWait: () => log.push('wait') })));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    for (const log of seen) expect(log).toEqual(['start', 'wait', 'start']);
  });

  it('a pack holding a task with a short time limit stops at that limit and is split: only that task is charged', async () => {
    runner = new Runner({ threads: 1, batchMs: 1000 });
    await runner.run({ kind: 'pi', input: encodeInput({ seed: 1, samples: 1000 }), timeoutMs: 0, memoryMb: 0 });
    const slow = runner.run({ kind: 'pi', input: encodeInput({ seed: 2, samples: 100_000_000 }), timeoutMs: 200, memoryMb: 0 });
    const quick = Array.from({ length: 20 }, (_, i) => runner!.run({ kind: 'pi', input: encodeInput({ seed: 3 + i, samples: 1000 }), timeoutMs: 5000, memoryMb: 0 }));
    expect(await slow).toMatchObject({ ok: false, errorCode: 'timeout' });
    for (const o of await Promise.all(quick)) expect(o.ok).toBe(true);
  });

  it('a pack that overruns its own limit is split, even when no task of it has a limit of its own', async () => {
    // Two threads: once split, the spinner holds one (alone, under its own limit), the rest use the other.
    runner = new Runner({ threads: 2, batchMs: 100, packLimitMs: 1000 });
    // The spin fixture (a custom kind: task processes): measured tiny, then one that never returns,
    // packed with the rest. Only its lease (10 min) would stop it: the pack limit must not wait for that.
    const spin = (i: number, forever = false) => ({ kind: 'spin', codePath: SPIN, input: encodeInput({ i, spin: forever }), timeoutMs: 0, leaseMs: 600_000, memoryMb: 0 });
    await runner.run(spin(0));
    const controller = new AbortController();
    const stuck = runner.run({ ...spin(1, true), signal: controller.signal });
    const quick = Array.from({ length: 20 }, (_, i) => runner!.run(spin(2 + i)));
    const started = performance.now();
    for (const o of await Promise.all(quick)) expect(o.ok).toBe(true);
    console.log(`pack split after overrunning its 1000 ms limit: its quick tasks done in ${Math.round(performance.now() - started)} ms`);
    // At least the spinner's pack; on a loaded machine a pack of quick ones may overrun 1 s too
    // (load 14 saw 2), and splitting it is the same rule.
    expect(runner.packsSplit).toBeGreaterThanOrEqual(1);
    // Alone now, under its own limit; a cancel stops it at once.
    controller.abort();
    expect(await stuck).toMatchObject({ ok: false, errorCode: 'aborted' });
  }, 120_000);

  it('a task stopped at its time limit, or by a cancel, frees its thread for the next task at once', async () => {
    runner = new Runner({ threads: 1 });
    const spin = (i: number, forever: boolean, timeoutMs = 0) => ({ kind: 'spin', codePath: SPIN, input: encodeInput({ i, spin: forever }), timeoutMs, memoryMb: 0 });
    await runner.run(spin(0, false));
    // At its limit: the outcome, then the next task through the same (only) thread.
    let t0 = performance.now();
    const stopped = runner.run(spin(1, true, 500));
    const next = runner.run(spin(2, false));
    expect(await stopped).toMatchObject({ ok: false, errorCode: 'timeout' });
    const atLimit = performance.now() - t0 - 500;
    expect(await next).toMatchObject({ ok: true });
    const limitToFree = performance.now() - t0 - 500;
    // By a cancel.
    const controller = new AbortController();
    const stuck = runner.run({ ...spin(3, true), signal: controller.signal });
    await new Promise((r) => setTimeout(r, 300));
    t0 = performance.now();
    controller.abort();
    expect(await stuck).toMatchObject({ ok: false, errorCode: 'aborted' });
    expect(await runner.run(spin(4, false))).toMatchObject({ ok: true });
    const cancelToFree = performance.now() - t0;
    // (A killed task process is replaced by a fresh one: its start-up is most of these figures.)
    console.log(`runaway task: reported ${Math.round(atLimit)} ms after its limit, the next task done ${Math.round(limitToFree)} ms after it; after a cancel: ${Math.round(cancelToFree)} ms`);
  }, 60_000);
});
