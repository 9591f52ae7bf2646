/**
 * The error type every swarmgrid area uses, and the wire-level catalogue. Each area keeps its own
 * catalogue file (proto/errors.ts, coordinator/errors.ts, worker/errors.ts); docs/ERRORS.md lists
 * every code and a test checks that it does.
 */
export class GridError extends Error {
  readonly code: string;
  /** HTTP status when the error reaches an HTTP client. */
  readonly statusCode: number;

  constructor(code: string, message: string, statusCode = 500, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GridError';
    this.code = code;
    this.statusCode = statusCode;
  }
}

export type GridErrorFactory = ((...args: (string | number)[]) => GridError) & { code: string; statusCode: number };

/** `createError('GRID_ERR_X', 'message with %s', 400)` → a factory whose arguments fill the `%s`. */
export function createError(code: string, template: string, statusCode = 500): GridErrorFactory {
  const factory = (...args: (string | number)[]): GridError => {
    let i = 0;
    const message = template.replace(/%s/g, () => String(args[i++] ?? ''));
    return new GridError(code, message, statusCode);
  };
  return Object.assign(factory, { code, statusCode });
}

export const ProtoErrors = {
  FRAME_TOO_LARGE: createError('GRID_ERR_FRAME_TOO_LARGE', 'frame of %s bytes exceeds the limit of %s bytes', 400),
  FRAME_LENGTH: createError('GRID_ERR_FRAME_LENGTH', 'malformed frame length prefix', 400),
  FRAME_DECODE: createError('GRID_ERR_FRAME_DECODE', 'malformed frame: %s', 400),
  FRAME_EMPTY: createError('GRID_ERR_FRAME_EMPTY', 'frame has no body', 400),
  PROTOCOL: createError('GRID_ERR_PROTOCOL', 'protocol violation: %s', 400),
  PROTOCOL_VERSION: createError('GRID_ERR_PROTOCOL_VERSION', 'protocol version %s is not supported (this peer speaks %s)', 400),
  NETWORK_QUOTA: createError('GRID_ERR_NETWORK_QUOTA', 'network %s already has %s sessions open, the most one network may hold', 429),
  CHANNEL_CLOSED: createError('GRID_ERR_CHANNEL_CLOSED', 'channel is closed', 500),
  DUPLICATE_IDENTITY: createError('GRID_ERR_DUPLICATE_IDENTITY', 'identity %s is in use by another worker process connected to this coordinator (a copied --data?): give each worker its own --data', 409),
  BOOTSTRAP: createError('GRID_ERR_BOOTSTRAP', 'invalid bootstrap address "%s": expected HOST:PORT', 400),
} as const;
