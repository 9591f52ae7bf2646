/**
 * Kinds a worker refused to run, kept per worker key in the `declines` table: a volunteer that
 * declined a custom kind is not offered it again when it reconnects, and the operator can read
 * why (`GRID_ERR_UNTRUSTED_CODE …`, `GRID_ERR_CODE_HASH_MISMATCH …`).
 */
import type { GridStore } from './store/index.js';

/** The reason prefix a worker uses when it does not trust this coordinator's code. */
export const UNTRUSTED_CODE = 'GRID_ERR_UNTRUSTED_CODE';
const UNTRUSTED = UNTRUSTED_CODE;
/** The reason prefix of a volunteer that runs no WASM kinds (--no-wasm), which it may drop at any restart. */
const WASM_REFUSED = 'GRID_ERR_WASM_REFUSED';

/**
 * Remembers a decline of a custom kind registered here. Any other name (a built-in kind, which
 * needs no trust, or a kind this coordinator does not have) holds for the session only: a buggy
 * or hostile client must not leave rows behind that bar a volunteer from work for good.
 */
export function recordDecline(store: GridStore, worker: string, kind: string, reason: string): void {
  store.defer(() => store.recordDecline(worker, kind, reason, Date.now()));
}

/**
 * The kinds a worker has declined, as it says hello. A worker that now trusts this coordinator
 * (it was restarted with --trust) gets its "untrusted" declines forgotten.
 */
export function declinedKinds(store: GridStore, worker: string, trusts: boolean): string[] {
  if (trusts) store.forgetDeclinesOf(worker, UNTRUSTED);
  // Hello does not say whether it runs WASM kinds: offered them again each session, it declines again.
  store.forgetDeclinesOf(worker, WASM_REFUSED);
  return store.declinedKinds(worker);
}

/** New code for a kind: every worker gets another chance at it. */
export function forgetDeclines(store: GridStore, kind: string): void {
  store.forgetDeclinesOfKind(kind);
}

/** The reason of the latest decline of a kind, for a batch's `waiting` note. */
export function latestDecline(store: GridStore, kind: string): string | undefined {
  return store.latestDecline(kind);
}
