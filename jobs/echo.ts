import { splitmix32 } from './prng.js';
import type { JobKind, Json } from './types.js';
import { asObject, intField } from './validate.js';

/**
 * One work unit: any JSON object, echoed back unchanged. The generator fills `payload` with
 * `payloadBytes` ASCII characters, so one unit weighs about that much on the wire each way; a
 * benchmark of the grid's own per-task overhead, not of computation.
 */
export type EchoInput = { [key: string]: Json };

interface EchoAcc {
  units: number;
  payloadBytes: number;
}

const MAX_PAYLOAD = 16 * 1024 * 1024;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export const echo: JobKind<EchoInput, EchoInput, EchoAcc> = {
  name: 'echo',
  version: '1.0.0',
  description: 'Returns its input unchanged: measures the grid’s per-task overhead and throughput.',
  output: 'json',
  comparator: { type: 'exact' },
  params: [
    { name: 'workUnits', type: 'integer', default: 1000, description: 'number of work units' },
    { name: 'payloadBytes', type: 'integer', default: 0, description: `payload characters per unit (<= ${MAX_PAYLOAD})` },
  ],

  validateInput(input: unknown): EchoInput {
    // Inputs arrive as decoded JSON, so any object is already a valid JSON value.
    return asObject(input, 'echo input') as EchoInput;
  },

  run(input: EchoInput): EchoInput {
    return input;
  },

  *generate(params: Json): Iterable<EchoInput> {
    const obj = asObject(params ?? {}, 'echo params');
    const units = intField(obj, 'workUnits', { min: 1, max: 100_000_000, default: 1000 });
    const bytes = intField(obj, 'payloadBytes', { min: 0, max: MAX_PAYLOAD, default: 0 });
    for (let i = 0; i < units; i++) yield bytes > 0 ? { value: i, payload: payload(i, bytes) } : { value: i };
  },

  reducer: {
    init: () => ({ units: 0, payloadBytes: 0 }),
    add(acc, output) {
      acc.units += 1;
      if (typeof output['payload'] === 'string') acc.payloadBytes += output['payload'].length;
      return acc;
    },
    finish(acc) {
      const body = { workUnits: acc.units, payloadBytes: acc.payloadBytes };
      return {
        contentType: 'application/json',
        fileName: 'echo.json',
        bytes: new TextEncoder().encode(JSON.stringify(body, null, 2) + '\n'),
        summary: `echo: ${acc.units} work units, ${acc.payloadBytes} payload bytes`,
      };
    },
  },
};

/** Deterministic, incompressible-looking base64 characters, different for every unit. */
function payload(seed: number, length: number): string {
  const next = splitmix32(seed);
  // Bytes, then one decode: a string array joined took 0.7 s for 2 MB on a loaded machine, and
  // the coordinator's thread makes these while it takes a batch in.
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 4) {
    const w = next();
    for (let k = 0; k < 4 && i + k < length; k++) bytes[i + k] = ALPHABET_CODES[(w >>> (6 * k)) & 63]!;
  }
  return ASCII.decode(bytes);
}

const ALPHABET_CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const ASCII = new TextDecoder();
