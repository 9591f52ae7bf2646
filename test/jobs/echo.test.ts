import { describe, expect, it } from 'vitest';
import { encodeInput } from '../../jobs/codec.js';
import { echo } from '../../jobs/echo.js';
import { artifactText, runBatch, runEncoded } from './helpers.js';

describe('echo', () => {
  it('returns its input byte for byte', () => {
    const input = { value: { nested: [1, 'two', null, true] }, extra: 3.5 };
    expect(runEncoded(echo, input)).toEqual(encodeInput(input));
  });

  it('generates deterministic payloads of the requested size and counts them', () => {
    const { inputs, artifact } = runBatch(echo, { workUnits: 5, payloadBytes: 1000 });
    expect(inputs).toHaveLength(5);
    expect(inputs.every((i) => typeof i['payload'] === 'string' && i['payload'].length === 1000)).toBe(true);
    expect(inputs[0]!['payload']).not.toBe(inputs[1]!['payload']);
    expect([...echo.generate!({ workUnits: 5, payloadBytes: 1000 })]).toEqual(inputs);
    expect(JSON.parse(artifactText(artifact))).toEqual({ workUnits: 5, payloadBytes: 5000 });
  });

  it('sends no payload when payloadBytes is 0', () => {
    expect([...echo.generate!({ workUnits: 2 })]).toEqual([{ value: 0 }, { value: 1 }]);
  });

  it('rejects non-objects and bad params, naming the field', () => {
    expect(() => echo.validateInput([1, 2])).toThrow(/echo input must be an object/);
    expect(() => [...echo.generate!({ workUnits: 0 })]).toThrow(/workUnits must be >= 1/);
    expect(() => [...echo.generate!({ payloadBytes: -1 })]).toThrow(/payloadBytes must be >= 0/);
  });
});
