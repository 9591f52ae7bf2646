/** `swarmgrid kind add|list`: the custom job kinds of a coordinator (its data directory). */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { registerKind, storedKinds } from '../../coordinator/code-bundles.js';
import { CoordinatorErrors } from '../../coordinator/errors.js';
import { isWasmBundle, packWasmKind } from '../../coordinator/wasm-kinds.js';
import { loadOrCreateKeyPair } from '../../coordinator/identity.js';
import { type Command, usageError } from '../cli.js';
import { initOption, openStoreDir } from './store-dir.js';

export const kind: Command = {
  name: 'kind',
  summary: 'add a custom job kind (a JS module, or a WASM module with its manifest) to a coordinator, or list them',
  usage: 'swarmgrid kind add FILE [--manifest kind.json] --data DIR [--init] [--json] | swarmgrid kind list --data DIR [--json]',
  options: {
    data: { type: 'string', value: 'DIR', description: "the coordinator's data directory; required" },
    manifest: { type: 'string', value: 'FILE', description: 'FILE is a WASM module (WASI command) and this its manifest (docs/JOB-KINDS.md)' },
    json: { type: 'boolean', default: 'off', description: 'print one JSON object per kind' },
    init: { ...initOption.init!, description: `add: ${initOption.init!.description}` },
  },
  notes: [
    'add checks the module\'s default export against the job-kind contract (docs/JOB-KINDS.md), signs',
    'its SHA-256 with the coordinator key and stores it; a running coordinator picks it up with the',
    'next batch that names it. Volunteers run a JS kind only if they started with --trust COORDINATOR_KEY;',
    'a WASM kind (FILE.wasm --manifest kind.json) runs in a sandbox, on every volunteer without --no-wasm.',
  ].join('\n'),
  async run(v, positionals) {
    const [action, file] = positionals;
    if (action !== 'add' && action !== 'list') throw usageError("expected 'swarmgrid kind add FILE' or 'swarmgrid kind list'");
    if (!v.data) throw usageError('--data DIR is required');
    const dataDir = v.data as string;
    if (v.init && action !== 'add') throw usageError('--init is for swarmgrid kind add');
    const store = openStoreDir(dataDir, !!v.init);
    try {
      if (action === 'list') {
        for (const row of storedKinds(store)) {
          const runtime = isWasmBundle(row.code) ? 'wasm' : 'js';
          const fields = { kind: row.name, version: row.version, runtime, hash: row.code_hash.toString('hex'), bytes: row.code.length, addedAt: new Date(row.added_at).toISOString() };
          process.stdout.write(v.json ? JSON.stringify(fields) + '\n' : `${row.name}@${row.version} (${runtime}) sha256:${fields.hash} ${fields.bytes} bytes, added ${fields.addedAt}\n`);
        }
        return 0;
      }
      if (!file) throw usageError('a module file is required: swarmgrid kind add FILE --data DIR');
      let code: Buffer;
      try {
        code = readFileSync(file);
      } catch (err) {
        throw usageError(`cannot read ${file}: ${(err as Error).message}`);
      }
      if (v.manifest) code = Buffer.from(await wasmBundle(code, v.manifest as string));
      else if (code.subarray(0, 4).equals(Buffer.from([0, 0x61, 0x73, 0x6d]))) throw usageError(`${file} is a WebAssembly module: give its manifest with --manifest kind.json (docs/JOB-KINDS.md)`);
      const keyPair = loadOrCreateKeyPair(dataDir);
      const { kind: k, hash, replaced } = await registerKind({ store, dataDir: resolve(dataDir), keyPair, code });
      const key = keyPair.publicKey.toString('hex');
      if (v.json) {
        process.stdout.write(JSON.stringify({ kind: k.name, version: k.version, hash: hash.toString('hex'), coordinator: key, replaced: replaced ? `${replaced.name}@${replaced.version}` : null }) + '\n');
      } else {
        process.stdout.write(`${replaced ? 'replaced' : 'added'} ${k.name}@${k.version} sha256:${hash.toString('hex')}\n`
          + `signed by coordinator ${key}\n`
          + (k.sandbox ? 'a WASM kind: volunteers run it in the sandbox, without --trust\n' : `volunteers run it with: swarmgrid worker --trust ${key}\n`));
      }
      return 0;
    } finally {
      store.close();
    }
  },
};

/** A WASM module, its manifest and the JS modules the manifest names (next to it), packed. */
async function wasmBundle(module: Buffer, manifestPath: string): Promise<Uint8Array> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw CoordinatorErrors.WASM_MANIFEST(`cannot read ${manifestPath}: ${(err as Error).message}`);
  }
  const scripts: Record<string, Uint8Array> = {};
  const m = manifest as { units?: { module?: unknown }; reduce?: { module?: unknown } } | null;
  for (const name of [m?.units?.module, m?.reduce?.module]) {
    if (typeof name !== 'string' || scripts[name]) continue;
    try {
      scripts[name] = readFileSync(join(dirname(manifestPath), name));
    } catch {
      // packWasmKind names what is missing, after checking the name itself.
    }
  }
  return packWasmKind({ module, manifest, scripts });
}
