import { describe, expect, it } from 'vitest';
import { encodeJson } from '../../jobs/codec.js';
import { bytesEqual, jsonWithinTolerance, numbersClose, outputsAgree } from '../../jobs/compare.js';
import type { JobKind } from '../../jobs/types.js';

function kind(partial: Partial<JobKind>): JobKind {
  return { name: 'test', version: '1.0.0', description: '', output: 'json', validateInput: (x) => x, run: (x) => x, ...partial };
}

const tol = { abs: 1e-9, rel: 1e-9 };

describe('outputsAgree', () => {
  it('exact (also the default): identical bytes agree, any difference does not', () => {
    for (const k of [kind({}), kind({ comparator: { type: 'exact' } }), kind({ output: 'bytes' })]) {
      expect(outputsAgree(k, Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
      expect(outputsAgree(k, Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false);
      expect(outputsAgree(k, Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2))).toBe(false);
    }
    const k = kind({});
    expect(outputsAgree(k, encodeJson({ x: 0.1 + 0.2 }), encodeJson({ x: 0.3 }))).toBe(false);
  });

  it('tolerance: numbers differing in the last bits agree, numbers outside the tolerance do not', () => {
    const k = kind({ comparator: { type: 'tolerance', ...tol } });
    const a = { x: 1e6, y: [0.1 + 0.2, 1e-12], label: 'peak', ok: true, none: null };
    const near = { x: 1e6 * (1 + 2 ** -50), y: [0.3, 1.5e-12], label: 'peak', ok: true, none: null };
    expect(outputsAgree(k, encodeJson(a), encodeJson(near))).toBe(true);
    expect(outputsAgree(k, encodeJson(near), encodeJson(a))).toBe(true);
    expect(outputsAgree(k, encodeJson(a), encodeJson({ ...a, x: 1e6 + 0.01 }))).toBe(false);
    expect(outputsAgree(k, encodeJson(a), encodeJson({ ...a, y: [0.3, 2e-9] }))).toBe(false);
    expect(outputsAgree(k, encodeJson(a), encodeJson({ ...a, label: 'peek' }))).toBe(false);
    expect(outputsAgree(k, encodeJson(a), encodeJson({ ...a, ok: false }))).toBe(false);
    expect(outputsAgree(k, encodeJson(a), encodeJson({ ...a, none: 0 }))).toBe(false);
    expect(outputsAgree(k, encodeJson(a), encodeJson({ ...a, extra: 1 }))).toBe(false);
    expect(outputsAgree(k, encodeJson(a), encodeJson({ ...a, y: [0.3] }))).toBe(false);
    expect(outputsAgree(k, encodeJson(a), encodeJson({ ...a, y: { 0: 0.3, 1: 1e-12 } }))).toBe(false);
  });

  it('tolerance on a bytes kind falls back to byte equality', () => {
    const k = kind({ output: 'bytes', comparator: { type: 'tolerance', ...tol } });
    expect(outputsAgree(k, Uint8Array.of(7), Uint8Array.of(7))).toBe(true);
    expect(outputsAgree(k, Uint8Array.of(7), Uint8Array.of(8))).toBe(false);
  });

  it('custom: calls compare on decoded outputs; a throw or undecodable bytes mean disagreement', () => {
    const k = kind({ comparator: { type: 'custom', compare: (a, b) => (a as { n: number }).n % 10 === (b as { n: number }).n % 10 } });
    expect(outputsAgree(k, encodeJson({ n: 13 }), encodeJson({ n: 23 }))).toBe(true);
    expect(outputsAgree(k, encodeJson({ n: 13 }), encodeJson({ n: 24 }))).toBe(false);
    expect(outputsAgree(k, encodeJson({ n: 13 }), Uint8Array.of(0xff, 0xfe))).toBe(false);
    const throwing = kind({ comparator: { type: 'custom', compare: () => { throw new Error('boom'); } } });
    expect(outputsAgree(throwing, encodeJson(1), encodeJson(1))).toBe(false);
    const tolerant = kind({ comparator: { type: 'tolerance', ...tol } });
    expect(outputsAgree(tolerant, encodeJson(1), new TextEncoder().encode('{not json'))).toBe(false);
  });

  it('custom on a bytes kind sees the raw bytes', () => {
    const k = kind({ output: 'bytes', comparator: { type: 'custom', compare: (a, b) => (a as Uint8Array)[0] === (b as Uint8Array)[0] } });
    expect(outputsAgree(k, Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(true);
    expect(outputsAgree(k, Uint8Array.of(1, 2), Uint8Array.of(2, 2))).toBe(false);
  });
});

describe('comparison helpers', () => {
  it('numbersClose is symmetric and honours abs or rel', () => {
    expect(numbersClose(0, 1e-10, tol)).toBe(true);
    expect(numbersClose(1e-10, 0, tol)).toBe(true);
    expect(numbersClose(1e12, 1e12 + 100, tol)).toBe(true);
    expect(numbersClose(1e12, 1e12 + 10_000, tol)).toBe(false);
    expect(numbersClose(NaN, NaN, tol)).toBe(false);
  });

  it('jsonWithinTolerance and bytesEqual compare structure', () => {
    expect(jsonWithinTolerance([1, { a: 2 }], [1, { a: 2 + 1e-12 }], tol)).toBe(true);
    expect(jsonWithinTolerance({ a: 1 }, { b: 1 }, tol)).toBe(false);
    expect(jsonWithinTolerance('1', 1, tol)).toBe(false);
    expect(bytesEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});
