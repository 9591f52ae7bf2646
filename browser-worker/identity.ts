/**
 * The volunteer's identity: a random 32-byte key made once and kept in localStorage, so the
 * coordinator recognises this browser across visits (its reputation, and its unacknowledged
 * results after a reconnect). It proves nothing cryptographically; see docs/BROWSER.md.
 */
const STORAGE_KEY = 'swarmgrid.volunteer.id';
const ID = /^[0-9a-f]{64}$/;

export function volunteerId(storage: Storage | undefined = safeLocalStorage()): string {
  const kept = storage?.getItem(STORAGE_KEY);
  if (kept && ID.test(kept)) return kept;
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const id = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  try {
    storage?.setItem(STORAGE_KEY, id);
  } catch {
    // Storage full or denied: this visit gets a fresh identity, which is harmless.
  }
  return id;
}

/** localStorage throws in some privacy modes instead of being absent. */
export function safeLocalStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}
