/**
 * A submission's work-unit inputs, seen as a stream of chunks: an array, a generator over batch
 * params, or an NDJSON body all become `InputChunk`s, so that ingest validates and stores a
 * chunk at a time and never holds a whole batch (nor pays an await per unit).
 */

export interface InputChunk {
  values: readonly unknown[];
  /** Where each value came from, for error messages (an NDJSON body's line numbers). */
  lines?: readonly number[];
}

export type InputSource = Iterable<unknown> | AsyncIterable<unknown>;

/** Cuts any iterable of inputs into chunks of `size`; sync sources are read without awaiting per item. */
export async function* chunksOf(inputs: InputSource, size: number): AsyncGenerator<InputChunk> {
  if (Array.isArray(inputs)) {
    for (let i = 0; i < inputs.length; i += size) yield { values: inputs.slice(i, i + size) };
    return;
  }
  let values: unknown[] = [];
  if (Symbol.iterator in inputs) {
    for (const value of inputs) {
      values.push(value);
      if (values.length >= size) {
        yield { values };
        values = [];
      }
    }
  } else {
    for await (const value of inputs) {
      values.push(value);
      if (values.length >= size) {
        yield { values };
        values = [];
      }
    }
  }
  if (values.length > 0) yield { values };
}

/** "work unit 7" or "work unit 7 (line 9)". */
export function unitLabel(seq: number, chunk: InputChunk, index: number): string {
  const line = chunk.lines?.[index];
  return line === undefined ? String(seq) : `${seq} (line ${line})`;
}
