/**
 * The job kinds a coordinator offers: the built-in ones, plus custom kinds an operator
 * registered (`swarmgrid kind add`), which workers fetch as signed code bundles.
 */
import { outputsAgree } from '../jobs/compare.js';
import { builtinKinds } from '../jobs/registry.js';
import type { JobKind } from '../jobs/types.js';
import { type Agree, exactAgree } from './validator.js';

export interface CatalogEntry {
  kind: JobKind;
  /** SHA-256 of the code bundle for custom kinds; null for built-ins. */
  codeHash: Buffer | null;
}

export class KindCatalog {
  #custom = new Map<string, CatalogEntry>();

  get(name: string): CatalogEntry | undefined {
    const builtin = builtinKinds.get(name);
    if (builtin) return { kind: builtin, codeHash: null };
    return this.#custom.get(name);
  }

  addCustom(entry: CatalogEntry): void {
    this.#custom.set(entry.kind.name, entry);
  }

  list(): CatalogEntry[] {
    return [...[...builtinKinds.values()].map((kind) => ({ kind, codeHash: null })), ...this.#custom.values()];
  }
}

/** The validator's agreement test for a kind: digests first, the kind's comparator otherwise. */
export function agreeFor(kind: JobKind): Agree {
  const comparator = kind.comparator ?? { type: 'exact' };
  if (comparator.type === 'exact') return exactAgree;
  return (a, b) => a.digest === b.digest || outputsAgree(kind, a.output, b.output);
}
