/**
 * NDJSON body reader: turns a byte stream into parsed lines without ever holding more than one
 * line (plus a chunk) in memory. A bad line throws GRID_ERR_NDJSON_LINE with its line number.
 */
import { CoordinatorErrors } from '../errors.js';

export interface NdjsonLine {
  line: number;
  value: unknown;
}

export async function* readNdjson(stream: AsyncIterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<NdjsonLine> {
  let carry = '';
  let line = 0;
  const decoder = new TextDecoder('utf-8');
  const parse = (text: string): NdjsonLine | undefined => {
    line++;
    const trimmed = text.trim();
    if (trimmed === '') return undefined;
    try {
      return { line, value: JSON.parse(trimmed) };
    } catch (err) {
      throw CoordinatorErrors.NDJSON_LINE(line, `invalid JSON: ${(err as Error).message}`);
    }
  };
  for await (const chunk of stream) {
    carry += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = carry.indexOf('\n')) >= 0) {
      const text = carry.slice(0, nl);
      carry = carry.slice(nl + 1);
      const parsed = parse(text);
      if (parsed) yield parsed;
    }
    if (carry.length > maxLineBytes) throw CoordinatorErrors.NDJSON_LINE(line + 1, `line longer than ${maxLineBytes} bytes`);
  }
  carry += decoder.decode();
  const last = parse(carry);
  if (last) yield last;
}
