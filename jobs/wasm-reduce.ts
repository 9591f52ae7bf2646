/**
 * The declarative reducers of WASM kinds (manifest `reduce`): CSV with named columns from input
 * and output fields, or NDJSON. A `module` reducer is the manifest author's own JS and is loaded
 * by coordinator/wasm-kinds.ts.
 */
import { canonicalJson } from './codec.js';
import type { Artifact, Json, Reducer } from './types.js';
import type { WasmManifest } from './wasm-manifest.js';

const encoder = new TextEncoder();

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** What a kind's output is, as a value for CSV cells and NDJSON lines. */
function outputValue(manifest: WasmManifest, output: unknown): unknown {
  if (!(output instanceof Uint8Array)) return output;
  if (manifest.output === 'text') return new TextDecoder().decode(output);
  let s = '';
  for (let i = 0; i < output.length; i += 0x8000) s += String.fromCharCode(...output.subarray(i, i + 0x8000));
  return btoa(s);
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : canonicalJson(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function lookup(column: string, input: unknown, output: unknown): unknown {
  const get = (o: unknown, k: string) => (isObject(o) ? o[k] : undefined);
  if (column.startsWith('input.')) return get(input, column.slice(6));
  if (column.startsWith('output.')) {
    const k = column.slice(7);
    return k === 'output' && !isObject(output) ? output : get(output, k);
  }
  const fromOutput = get(output, column);
  if (fromOutput !== undefined) return fromOutput;
  if (column === 'output' && !isObject(output)) return output;
  return get(input, column);
}

function defaultColumns(input: unknown, output: unknown): string[] {
  const inputKeys = isObject(input) ? Object.keys(input).sort() : [];
  const outputKeys = isObject(output) ? Object.keys(output).sort() : ['output'];
  return [...inputKeys.filter((k) => !outputKeys.includes(k)), ...outputKeys];
}

interface CsvAcc {
  columns: string[] | undefined;
  chunks: Uint8Array[];
  rows: number;
}

export function csvReducer(manifest: WasmManifest, columns: string[] | undefined, fileName: string): Reducer<Json, unknown, CsvAcc> {
  return {
    init: () => ({ columns, chunks: [], rows: 0 }),
    add(acc, output, input) {
      const out = outputValue(manifest, output);
      if (!acc.columns) acc.columns = defaultColumns(input, out);
      if (acc.rows === 0) acc.chunks.push(encoder.encode(acc.columns.map((c) => cell(c.replace(/^(input|output)\./, ''))).join(',') + '\n'));
      acc.chunks.push(encoder.encode(acc.columns.map((c) => cell(lookup(c, input, out))).join(',') + '\n'));
      acc.rows++;
      return acc;
    },
    finish(acc): Artifact {
      return { contentType: 'text/csv', fileName, bytes: join(acc.chunks), summary: `${acc.rows} rows × ${acc.columns?.length ?? 0} columns (${acc.columns?.join(', ') ?? ''})` };
    },
  };
}

export function ndjsonReducer(manifest: WasmManifest, fileName: string): Reducer<Json, unknown, { chunks: Uint8Array[]; rows: number }> {
  return {
    init: () => ({ chunks: [], rows: 0 }),
    add(acc, output, input, seq) {
      acc.chunks.push(encoder.encode(canonicalJson({ seq, input, output: outputValue(manifest, output) }) + '\n'));
      acc.rows++;
      return acc;
    },
    finish: (acc): Artifact => ({ contentType: 'application/x-ndjson', fileName, bytes: join(acc.chunks), summary: `${acc.rows} results` }),
  };
}

function join(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}
