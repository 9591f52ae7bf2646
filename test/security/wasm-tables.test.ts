/**
 * A WASM kind runs on volunteers without --trust, so its module may come from a hostile
 * coordinator: what it can take of a volunteer's machine must be capped by the volunteer, not by
 * `kind add`. Memory pages were capped; tables were not (20 tables of 10 M functions took 5.5 GB
 * and 3 minutes to instantiate). The volunteer's own path (runWasmTask, as node worker threads and
 * browser Web Workers call it) and `swarmgrid kind add` through the real CLI.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeInput } from '../../jobs/codec.js';
import { packWasmBundle } from '../../jobs/wasm-bundle.js';
import { parseWasmManifest } from '../../jobs/wasm-manifest.js';
import { capMemory, MAX_TABLE_ELEMENTS } from '../../jobs/wasm-module.js';
import { runWasmTask } from '../../jobs/wasm-task.js';
import { codeHash } from '../../proto/code-signature.js';
import { CLI } from '../helpers/grid.js';

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
};
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const name = (s: string) => [...leb(s.length), ...Buffer.from(s)];

/**
 * A WASI command module (an empty `_start`, `memory`) with the given funcref tables, each
 * `{ min, max? }`; the first is exported as `t`.
 */
function moduleWithTables(tables: { min: number; max?: number }[]): Uint8Array {
  const tableBytes = tables.flatMap((t) => [0x70, ...(t.max === undefined ? [0x00, ...leb(t.min)] : [0x01, ...leb(t.min), ...leb(t.max)])]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 0, 0]), // type: () -> ()
    ...section(3, [1, 0]), // one function of that type
    ...section(4, [...leb(tables.length), ...tableBytes]),
    ...section(5, [1, 0x00, 1]), // memory: 1 page, no maximum
    ...section(7, [3, ...name('_start'), 0x00, 0, ...name('memory'), 0x02, 0, ...name('t'), 0x01, 0]),
    ...section(10, [1, 2, 0, 0x0b]), // _start: nothing
  ]);
}

async function runOnVolunteer(module: Uint8Array) {
  const manifest = parseWasmManifest({ name: 'tables', version: '1.0.0', description: 'tables', output: 'text' });
  const bundle = packWasmBundle({ manifest, module, scripts: {} });
  return runWasmTask({ kind: 'tables', codeHash: codeHash(bundle), bundle: () => bundle, input: encodeInput({}), memoryMb: 0 });
}

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('WASM tables are capped like memory', () => {
  it('a volunteer refuses a module with several tables or one above the cap, at once and with a clean task error', async () => {
    // 3 tables of 10 M: before the cap, about 800 MB and half a minute of the volunteer's machine.
    const many = await runOnVolunteer(moduleWithTables([{ min: 10_000_000 }, { min: 10_000_000 }, { min: 10_000_000 }]));
    expect(many).toEqual({ errorCode: 'exception', message: expect.stringContaining('declares 3 tables: at most one') });
    const big = await runOnVolunteer(moduleWithTables([{ min: 10_000_000 }]));
    expect(big).toEqual({ errorCode: 'exception', message: expect.stringContaining(`more than the ${MAX_TABLE_ELEMENTS} allowed`) });
    // A module like a compiler makes, one small table, still runs.
    expect(await runOnVolunteer(moduleWithTables([{ min: 4, max: 4 }]))).toEqual({ output: new Uint8Array(0) });
  }, 60_000);

  it("caps a table's growth: table.grow past the cap fails, as memory.grow does past its pages", async () => {
    const capped = capMemory(moduleWithTables([{ min: 4 }]), 16);
    const instance = new WebAssembly.Instance(await WebAssembly.compile(capped));
    const table = instance.exports.t as unknown as { grow(n: number): number; length: number };
    expect(table.grow(MAX_TABLE_ELEMENTS - 4)).toBe(4);
    expect(() => table.grow(1)).toThrow(RangeError);
    expect(table.length).toBe(MAX_TABLE_ELEMENTS);
  });

  it('swarmgrid kind add refuses such a module with GRID_ERR_WASM_MODULE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarmgrid-tables-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'tables.wasm'), moduleWithTables([{ min: 10 }, { min: 10 }]));
    writeFileSync(join(dir, 'kind.json'), JSON.stringify({ name: 'tables', version: '1.0.0', description: 'two tables' }));
    const r = spawnSync(process.execPath, [CLI, 'kind', 'add', join(dir, 'tables.wasm'), '--manifest', join(dir, 'kind.json'), '--data', join(dir, 'coord'), '--init'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/GRID_ERR_WASM_MODULE: .*declares 2 tables/);
  });
});
