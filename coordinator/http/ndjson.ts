/**
 * NDJSON body reader: turns a byte stream into parsed lines without ever holding more than one
 * network chunk (plus one partial line) in memory. A bad line throws GRID_ERR_NDJSON_LINE with
 * its line number.
 *
 * It yields the lines of one network chunk at a time rather than one by one: a million-line body
 * would otherwise pay a promise round trip per line through every async generator on the way.
 */
import { CoordinatorErrors } from '../errors.js';

export interface NdjsonLines {
  /** Parsed values of the non-blank lines of this chunk. */
  values: unknown[];
  /** 1-based line number of each value. */
  lines: number[];
}

export async function* readNdjson(stream: AsyncIterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<NdjsonLines> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let carry = '';
  let line = 0;
  const parse = (text: string, out: NdjsonLines): void => {
    line++;
    if (text.length > maxLineBytes) throw CoordinatorErrors.NDJSON_LINE(line, `line longer than ${maxLineBytes} bytes`);
    // Blank lines (and a trailing \r of CRLF bodies) are allowed and skipped.
    const trimmed = text.trim();
    if (trimmed === '') return;
    try {
      out.values.push(JSON.parse(trimmed));
    } catch (err) {
      throw CoordinatorErrors.NDJSON_LINE(line, `invalid JSON: ${(err as Error).message}`);
    }
    out.lines.push(line);
  };
  const decode = (chunk: Buffer | string | undefined): string => {
    try {
      return chunk === undefined ? decoder.decode() : typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    } catch {
      throw CoordinatorErrors.NDJSON_LINE(line + 1, 'not valid UTF-8');
    }
  };
  for await (const chunk of stream) {
    const text = carry + decode(chunk);
    const out: NdjsonLines = { values: [], lines: [] };
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      parse(text.slice(start, nl), out);
      start = nl + 1;
    }
    carry = text.slice(start);
    // Checked before the newline arrives: a single endless line must not fill the memory.
    if (carry.length > maxLineBytes) throw CoordinatorErrors.NDJSON_LINE(line + 1, `line longer than ${maxLineBytes} bytes`);
    if (out.values.length > 0) yield out;
  }
  const tail: NdjsonLines = { values: [], lines: [] };
  parse(carry + decode(undefined), tail);
  if (tail.values.length > 0) yield tail;
}
