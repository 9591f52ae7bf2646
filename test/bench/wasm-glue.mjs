// The least WASI preview 1 that a C command module built against wasi-libc needs to run its
// main(): argv, stdout/stderr collected as text, exit. Shared verbatim by the node worker thread and
// the browser Web Worker of wasm-kernel.mjs (no imports, no Node or DOM APIs), so both engines run
// the module under identical glue. A benchmark harness only: the grid's WASI runtime is elsewhere.
export async function runWasiCommand(module, args) {
  let memory;
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const out = { 1: '', 2: '' };
  class Exit { constructor(code) { this.code = code; } }
  const view = () => new DataView(memory.buffer);
  const argBytes = args.map((a) => enc.encode(`${a}\0`));
  const wasi = {
    args_sizes_get(argc, size) { view().setUint32(argc, argBytes.length, true); view().setUint32(size, argBytes.reduce((n, b) => n + b.length, 0), true); return 0; },
    args_get(argv, buf) {
      for (const b of argBytes) { view().setUint32(argv, buf, true); argv += 4; new Uint8Array(memory.buffer, buf, b.length).set(b); buf += b.length; }
      return 0;
    },
    fd_write(fd, iovs, n, written) {
      let total = 0;
      for (let i = 0; i < n; i++) {
        const ptr = view().getUint32(iovs + 8 * i, true), len = view().getUint32(iovs + 8 * i + 4, true);
        if (fd in out) out[fd] += dec.decode(new Uint8Array(memory.buffer, ptr, len));
        total += len;
      }
      view().setUint32(written, total, true);
      return fd in out ? 0 : 8; // EBADF
    },
    fd_fdstat_get(fd, stat) { new Uint8Array(memory.buffer, stat, 24).fill(0); view().setUint8(stat, 2); return fd <= 2 ? 0 : 8; }, // character device
    fd_seek() { return 70; }, // ESPIPE
    fd_close() { return 0; },
    proc_exit(code) { throw new Exit(code); },
  };
  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi });
  memory = instance.exports.memory;
  let code = 0;
  try {
    instance.exports._start();
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    code = e.code;
  }
  return { code, stdout: out[1], stderr: out[2] };
}
