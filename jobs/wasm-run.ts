/**
 * Runs one work unit of a WASM kind: a WASI preview 1 command module under
 * @bjorn3/browser_wasi_shim, the same pure-JS WASI in node worker threads and in browser Web
 * Workers (docs/ARCHITECTURE.md says why not node:wasi), with everything that could differ
 * between volunteers pinned down:
 *
 * - stdin is the canonical JSON input and "\n"; argv is `unitArgs` (wasm-manifest.ts); no
 *   environment; no preopened directory, so no path resolves to any file;
 * - clocks are fixed (realtime 1 700 000 000 s, monotonic and CPU clocks 0) and a sleep
 *   (poll_oneoff on a clock) returns at once;
 * - random_get is xoshiro128** seeded from SHA-256(bundle hash ‖ canonical input);
 * - stdout is capped, and canonicalised by the manifest's `output` (canonicalOutput).
 */
import { ConsoleStdout, File, OpenFile, WASI } from '@bjorn3/browser_wasi_shim';
import { canonicalJson } from './codec.js';
import { Xoshiro128 } from './prng.js';
import { unitArgs, type WasmOutput } from './wasm-manifest.js';

/** What clock_time_get(REALTIME) returns: 2023-11-14T22:13:20Z, in ns. */
export const FIXED_REALTIME_NS = 1_700_000_000n * 1_000_000_000n;
/** The stderr kept for an error message, in bytes. */
export const STDERR_TAIL_BYTES = 2048;

const CLOCK_REALTIME = 0;
const ERRNO_SUCCESS = 0;
const ERRNO_INVAL = 28;
const ERRNO_NOTSUP = 58;

export type WasmTaskResult = { output: Uint8Array } | { error: string };

/** SHA-256(bundle hash ‖ input): the seed of a unit's random_get stream. */
export async function unitSeed(codeHash: Uint8Array, input: Uint8Array): Promise<Uint8Array> {
  const data = new Uint8Array(codeHash.length + input.length);
  data.set(codeHash, 0);
  data.set(input, codeHash.length);
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', data));
}

/**
 * Runs the unit; never throws for anything the module does (a trap, a non-zero exit, output
 * that does not parse): those are `{ error }`, a task error whose message ends with stderr's tail.
 */
export function runWasmUnit(opts: {
  module: WebAssembly.Module;
  kindName: string;
  output: WasmOutput;
  /** Canonical JSON bytes of the input. */
  input: Uint8Array;
  inputValue: unknown;
  seed: Uint8Array;
  maxOutputBytes: number;
}): WasmTaskResult {
  const stdout: Uint8Array[] = [];
  let stdoutBytes = 0;
  let stderr = new Uint8Array(0);
  const stdin = new Uint8Array(opts.input.length + 1);
  stdin.set(opts.input, 0);
  stdin[opts.input.length] = 0x0a;
  const fds = [
    new OpenFile(new File(stdin, { readonly: true })),
    new ConsoleStdout((b) => {
      stdoutBytes += b.length;
      if (stdoutBytes > opts.maxOutputBytes) throw new Error(`the output exceeds ${opts.maxOutputBytes} bytes`);
      stdout.push(b.slice());
    }),
    new ConsoleStdout((b) => {
      const joined = new Uint8Array(stderr.length + b.length);
      joined.set(stderr, 0);
      joined.set(b, stderr.length);
      stderr = joined.length > STDERR_TAIL_BYTES ? joined.slice(joined.length - STDERR_TAIL_BYTES) : joined;
    }),
  ];
  const wasi = new WASI(unitArgs(opts.kindName, opts.inputValue), [], fds, { debug: false });
  const seedView = new DataView(opts.seed.buffer, opts.seed.byteOffset, opts.seed.byteLength);
  const rng = Xoshiro128.stream(seedView.getUint32(0, true), seedView.getUint32(4, true));
  let memory: WebAssembly.Memory | undefined;
  const imports = wasi.wasiImport as Record<string, (...args: never[]) => unknown>;
  Object.assign(imports, {
    clock_res_get(_id: number, resPtr: number) {
      new DataView(memory!.buffer).setBigUint64(resPtr, 1000n, true);
      return ERRNO_SUCCESS;
    },
    clock_time_get(id: number, _precision: bigint, timePtr: number) {
      new DataView(memory!.buffer).setBigUint64(timePtr, id === CLOCK_REALTIME ? FIXED_REALTIME_NS : 0n, true);
      return ERRNO_SUCCESS;
    },
    random_get(buf: number, len: number) {
      const bytes = new Uint8Array(memory!.buffer, buf, len);
      for (let i = 0; i < len; i += 4) {
        const word = rng.nextUint32();
        for (let k = 0; k < 4 && i + k < len; k++) bytes[i + k] = (word >>> (8 * k)) & 0xff;
      }
      return ERRNO_SUCCESS;
    },
    // Every subscription is ready at once: clocks are fixed (a sleep would never end on them),
    // stdin is a complete in-memory file and stdout/stderr never block.
    poll_oneoff(inPtr: number, outPtr: number, nsubscriptions: number, neventsPtr: number) {
      if (nsubscriptions === 0) return ERRNO_INVAL;
      const view = new DataView(memory!.buffer);
      for (let i = 0; i < nsubscriptions; i++) {
        const sub = inPtr + 48 * i;
        const ev = outPtr + 32 * i;
        view.setBigUint64(ev, view.getBigUint64(sub, true), true);
        view.setUint16(ev + 8, ERRNO_SUCCESS, true);
        view.setUint8(ev + 10, view.getUint8(sub + 8));
        for (let k = 11; k < 32; k++) view.setUint8(ev + k, 0);
      }
      view.setUint32(neventsPtr, nsubscriptions, true);
      return ERRNO_SUCCESS;
    },
    sock_accept: () => ERRNO_NOTSUP,
    sock_recv: () => ERRNO_NOTSUP,
    sock_send: () => ERRNO_NOTSUP,
    sock_shutdown: () => ERRNO_NOTSUP,
  });
  const stderrTail = () => new TextDecoder('utf-8', { fatal: false }).decode(stderr).trim();
  let exitCode: number;
  try {
    const instance = new WebAssembly.Instance(opts.module, { wasi_snapshot_preview1: imports as WebAssembly.ModuleImports });
    memory = instance.exports.memory as WebAssembly.Memory;
    exitCode = wasi.start(instance as unknown as { exports: { memory: WebAssembly.Memory; _start: () => unknown } });
  } catch (err) {
    const what = err instanceof Error ? err.message : String(err);
    const tail = stderrTail();
    return { error: `the module trapped: ${what}${tail ? `; stderr: ${tail}` : ''}` };
  }
  if (exitCode !== 0) {
    const tail = stderrTail();
    return { error: `exit code ${exitCode}${tail ? `: ${tail}` : ''}` };
  }
  const out = new Uint8Array(stdoutBytes);
  let pos = 0;
  for (const b of stdout) {
    out.set(b, pos);
    pos += b.length;
  }
  try {
    return { output: canonicalOutput(opts.output, out) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Bare non-finite tokens outside JSON strings, as C's printf and other runtimes write them. */
const NON_FINITE = /"(?:[^"\\]|\\.)*"|(-?)\b(nan|infinity|inf)\b(?:\([^)]*\))?/gi;

/**
 * The output bytes volunteers compare. `json`: parsed and re-encoded canonically, with bare
 * `nan`/`-nan`/`NaN` as the string "NaN" and `inf`/`infinity` as "Infinity" / "-Infinity"
 * (JSON has no non-finite numbers; a NaN's sign bit is not deterministic). `text`: UTF-8 with
 * `-nan` written `nan`. `bytes`: as is.
 */
export function canonicalOutput(kind: WasmOutput, stdout: Uint8Array): Uint8Array {
  if (kind === 'bytes') return stdout;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(stdout);
  } catch {
    throw new Error('the output is not valid UTF-8');
  }
  if (kind === 'text') return new TextEncoder().encode(text.replace(/(?<![A-Za-z0-9_])-(nan)(?![A-Za-z0-9_])/gi, '$1'));
  const fixed = text.replace(NON_FINITE, (m: string, sign: string | undefined, word: string | undefined) => {
    if (word === undefined) return m;
    if (word.toLowerCase() === 'nan') return '"NaN"';
    return sign ? '"-Infinity"' : '"Infinity"';
  });
  let value: unknown;
  try {
    value = JSON.parse(fixed);
  } catch (err) {
    const head = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    throw new Error(`the output is not JSON (${(err as Error).message}): ${JSON.stringify(head)}`);
  }
  return new TextEncoder().encode(canonicalJson(value));
}
