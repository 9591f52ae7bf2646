/**
 * One task run (jobs/execute-task.ts), the function a node worker's thread and a browser's task
 * worker both call: its error mapping and its CPU time.
 */
import { describe, expect, it } from 'vitest';
import { encodeInput } from '../../jobs/codec.js';
import { executeTask } from '../../jobs/execute-task.js';
import { getBuiltinKind } from '../../jobs/registry.js';
import type { JobKind } from '../../jobs/types.js';

const echo = getBuiltinKind('echo')!;
const input = (value: unknown) => encodeInput(value as never);

describe('executeTask', () => {
  it('runs a kind: the output is the kind\'s encoded output, byte for byte', () => {
    const outcome = executeTask(echo, 'echo', input({ value: 7 }));
    expect('output' in outcome && new TextDecoder().decode(outcome.output)).toBe('{"value":7}');
  });

  it('maps failures to task error codes, as values', () => {
    expect(executeTask(undefined, 'nope', input({}))).toEqual({ errorCode: 'unknown_kind', message: 'unknown job kind nope', cpuMs: 0 });
    expect(executeTask(echo, 'echo', new TextEncoder().encode('{not json'))).toMatchObject({ errorCode: 'invalid_input', cpuMs: 0 });
    expect(executeTask(echo, 'echo', input([1, 2]))).toMatchObject({ errorCode: 'invalid_input', cpuMs: 0 });
    const throwing = { ...echo, run: () => { throw new Error('boom'); } } as JobKind;
    expect(executeTask(throwing, 'echo', input({}))).toMatchObject({ errorCode: 'exception', message: 'boom' });
  });

  it('reports the CPU clock it is given, else the wall time', () => {
    let cpu = 100;
    const clock = () => (cpu += 40);
    expect(executeTask(echo, 'echo', input({}), clock).cpuMs).toBe(40);
    // A clock that cannot be read falls back to the wall time: small, never negative.
    const wall = executeTask(echo, 'echo', input({}), () => undefined).cpuMs;
    expect(wall).toBeGreaterThanOrEqual(0);
    expect(wall).toBeLessThan(1000);
  });
});
