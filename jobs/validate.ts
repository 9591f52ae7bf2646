/** Small input/params validation helpers shared by job kinds. Errors name the field. */
import { shownName, unknownFieldHint } from './suggest.js';
import type { ParamSpec } from './types.js';

/**
 * Refuses batch params the kind does not declare: a misspelt name would otherwise be ignored and
 * the batch run with that param's default (`"To": 1000` ran 0..10^9). Kinds that declare no
 * params are not checked. Throws naming the field and the name probably meant.
 */
export function checkParamNames(spec: readonly ParamSpec[] | undefined, params: unknown): void {
  if (!spec || params === null || params === undefined || typeof params !== 'object' || Array.isArray(params)) return;
  const known = spec.map((p) => p.name);
  for (const name of Object.keys(params)) {
    if (!known.includes(name)) throw new Error(`unknown param ${shownName(name)}${unknownFieldHint(name, known)}`);
  }
}

export function asObject(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${what} must be an object`);
  }
  return value as Record<string, unknown>;
}

export function intField(
  obj: Record<string, unknown>,
  name: string,
  opts: { min?: number; max?: number; default?: number } = {},
): number {
  const raw = obj[name] ?? opts.default;
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) throw new Error(`${name} must be an integer`);
  if (opts.min !== undefined && raw < opts.min) throw new Error(`${name} must be >= ${opts.min}`);
  if (opts.max !== undefined && raw > opts.max) throw new Error(`${name} must be <= ${opts.max}`);
  return raw;
}

export function numField(
  obj: Record<string, unknown>,
  name: string,
  opts: { min?: number; max?: number; default?: number } = {},
): number {
  const raw = obj[name] ?? opts.default;
  if (typeof raw !== 'number' || !Number.isFinite(raw)) throw new Error(`${name} must be a finite number`);
  if (opts.min !== undefined && raw < opts.min) throw new Error(`${name} must be >= ${opts.min}`);
  if (opts.max !== undefined && raw > opts.max) throw new Error(`${name} must be <= ${opts.max}`);
  return raw;
}

export function strField(obj: Record<string, unknown>, name: string, opts: { default?: string; pattern?: RegExp } = {}): string {
  const raw = obj[name] ?? opts.default;
  if (typeof raw !== 'string') throw new Error(`${name} must be a string`);
  if (opts.pattern && !opts.pattern.test(raw)) throw new Error(`${name} must match ${opts.pattern}`);
  return raw;
}
