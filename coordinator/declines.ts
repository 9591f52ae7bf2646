/**
 * Kinds a worker refused to run, kept per worker key in the `declines` table: a volunteer that
 * declined a custom kind is not offered it again when it reconnects, and the operator can read
 * why (`GRID_ERR_UNTRUSTED_CODE …`, `GRID_ERR_CODE_HASH_MISMATCH …`).
 */
import type { Store } from './store.js';

/** The reason prefix a worker uses when it does not trust this coordinator's code. */
const UNTRUSTED = 'GRID_ERR_UNTRUSTED_CODE';
/** The reason prefix of a volunteer that runs no WASM kinds (--no-wasm), which it may drop at any restart. */
const WASM_REFUSED = 'GRID_ERR_WASM_REFUSED';

/**
 * Remembers a decline of a custom kind registered here. Any other name (a built-in kind, which
 * needs no trust, or a kind this coordinator does not have) holds for the session only: a buggy
 * or hostile client must not leave rows behind that bar a volunteer from work for good.
 */
export function recordDecline(store: Store, worker: string, kind: string, reason: string): void {
  store.defer(() => store.stmt(`INSERT INTO declines (worker, kind, reason, at)
    SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM kinds WHERE name = ?)
    ON CONFLICT (worker, kind) DO UPDATE SET reason = excluded.reason, at = excluded.at`).run(worker, kind, reason.slice(0, 1000), Date.now(), kind));
}

/**
 * The kinds a worker has declined, as it says hello. A worker that now trusts this coordinator
 * (it was restarted with --trust) gets its "untrusted" declines forgotten.
 */
export function declinedKinds(store: Store, worker: string, trusts: boolean): string[] {
  if (trusts) store.stmt(`DELETE FROM declines WHERE worker = ? AND reason LIKE '${UNTRUSTED}%'`).run(worker);
  // Hello does not say whether it runs WASM kinds: offered them again each session, it declines again.
  store.stmt(`DELETE FROM declines WHERE worker = ? AND reason LIKE '${WASM_REFUSED}%'`).run(worker);
  return (store.stmt('SELECT kind FROM declines WHERE worker = ?').all(worker) as { kind: string }[]).map((r) => r.kind);
}

/** New code for a kind: every worker gets another chance at it. */
export function forgetDeclines(store: Store, kind: string): void {
  store.stmt('DELETE FROM declines WHERE kind = ?').run(kind);
}

export function listDeclines(store: Store): { worker: string; kind: string; reason: string; at: number }[] {
  return store.stmt('SELECT worker, kind, reason, at FROM declines ORDER BY at').all() as { worker: string; kind: string; reason: string; at: number }[];
}
