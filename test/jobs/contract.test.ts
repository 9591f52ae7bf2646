import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputsAgree } from '../../jobs/compare.js';
import { builtinKinds, getBuiltinKind } from '../../jobs/registry.js';
import type { Json } from '../../jobs/types.js';
import { runEncoded } from './helpers.js';

const jobsDir = join(import.meta.dirname, '..', '..', 'jobs');

describe('every built-in job kind honours the contract', () => {
  it('registers pi, primes, mandelbrot, ode-sweep, hp-fold and echo', () => {
    expect([...builtinKinds.keys()].sort()).toEqual(['echo', 'hp-fold', 'mandelbrot', 'ode-sweep', 'pi', 'primes']);
    expect(getBuiltinKind('primes')?.name).toBe('primes');
    expect(getBuiltinKind('nope')).toBeUndefined();
  });

  for (const kind of builtinKinds.values()) {
    describe(kind.name, () => {
      it('has a lower-case name, a semantic version, a description and documented params', () => {
        expect(kind.name).toMatch(/^[a-z][a-z0-9-]*$/);
        expect(kind.version).toMatch(/^\d+\.\d+\.\d+$/);
        expect(kind.description.length).toBeGreaterThan(10);
        expect(kind.params?.length).toBeGreaterThan(0);
        for (const p of kind.params ?? []) expect(p.description.length, p.name).toBeGreaterThan(3);
      });

      it('generates the same work units from {} as from its documented defaults', () => {
        const defaults: Record<string, Json> = {};
        for (const p of kind.params ?? []) if (p.default !== undefined) defaults[p.name] = p.default;
        const first = (params: Json) => {
          const out: unknown[] = [];
          for (const input of kind.generate!(params)) {
            out.push(input);
            if (out.length === 3) break;
          }
          return out;
        };
        expect(first(defaults)).toEqual(first({}));
        expect(first({}).length).toBeGreaterThan(0);
      });

      it('runs its first default work unit to a canonical output that agrees with itself', () => {
        const firstInput: unknown = kind.generate!({})[Symbol.iterator]().next().value;
        expect(firstInput).toBeDefined();
        const a = runEncoded(kind, firstInput);
        const b = runEncoded(kind, structuredClone(firstInput));
        expect(a).toEqual(b);
        expect(outputsAgree(kind, a, b)).toBe(true);
      });

      it('rejects a non-object input with a message naming the kind', () => {
        expect(() => kind.validateInput(42)).toThrow(new RegExp(`${kind.name} input must be an object`));
        expect(() => kind.validateInput(null)).toThrow(/must be an object/);
      });

      it('has a reducer that turns zero work units into an artifact without crashing', () => {
        const r = kind.reducer!;
        const artifact = r.finish(r.init({}, 0));
        expect(artifact.fileName).toMatch(/\./);
        expect(artifact.contentType).toMatch(/\//);
        expect(artifact.bytes).toBeInstanceOf(Uint8Array);
      });
    });
  }
});

describe('job kinds stay isomorphic', () => {
  it('no job source touches Node built-ins, Buffer, process, Date or Math.random', () => {
    const forbidden = [/from ['"]node:/, /\brequire\(/, /\bBuffer\b/, /\bprocess\./, /\bDate\b/, /Math\.random/, /\bsetTimeout\b/];
    const files = readdirSync(jobsDir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      // Strip comments so prose like "no Date" does not trip the check.
      const code = readFileSync(join(jobsDir, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      for (const re of forbidden) expect(re.test(code), `${file} matches ${re}`).toBe(false);
    }
  });
});
