/**
 * Follows the progress of the batch the volunteer is working on through the coordinator's public
 * HTTP API (same origin, as the page's CSP demands). A coordinator run with --private answers
 * 401: the page then simply shows no progress bar.
 */
export interface BatchProgress {
  id: string;
  kind: string;
  state: string;
  total: number;
  validated: number;
  progress: number;
  etaSeconds: number | null;
  summary: string | null;
}

export class BatchWatch {
  /** The latest known progress of the watched batch, or null. */
  latest: BatchProgress | null = null;
  #batchId = '';
  #timer: ReturnType<typeof setTimeout> | undefined;
  #periodMs: number;
  #onUpdate: () => void;
  #disabled = false;

  constructor(onUpdate: () => void, periodMs = 2000) {
    this.#onUpdate = onUpdate;
    this.#periodMs = periodMs;
  }

  /** Switches to another batch (or keeps polling the same one). */
  watch(batchId: string): void {
    if (this.#disabled || !batchId || batchId === this.#batchId) return;
    this.#batchId = batchId;
    clearTimeout(this.#timer);
    void this.#poll();
  }

  async #poll(): Promise<void> {
    const id = this.#batchId;
    try {
      const res = await fetch(`/v1/batches/${encodeURIComponent(id)}`, { signal: AbortSignal.timeout(10_000) });
      if (res.status === 401 || res.status === 403) {
        this.#disabled = true; // private coordinator: progress is not ours to see
        return;
      }
      if (res.ok && id === this.#batchId) {
        const b = (await res.json()) as { id: string; kind: string; state: string; total: number; counts: { validated: number }; progress: number; etaSeconds: number | null; summary: string | null };
        this.latest = { id: b.id, kind: b.kind, state: b.state, total: b.total, validated: b.counts.validated, progress: b.progress, etaSeconds: b.etaSeconds, summary: b.summary };
        this.#onUpdate();
        if (b.state === 'completed' || b.state === 'failed' || b.state === 'cancelled') return;
      }
    } catch {
      // Network blip: try again next period.
    }
    if (id === this.#batchId) this.#timer = setTimeout(() => void this.#poll(), this.#periodMs);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#disabled = true;
  }
}
