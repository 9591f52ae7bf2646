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
  // Starting a node: a port or address it cannot listen on (proto/listen-errors.ts). 4xx: the fix is an option.
  PORT_IN_USE: createError('GRID_ERR_PORT_IN_USE', '%s port %s is in use on %s: pick another with %s (0 = any free port) or stop the program that holds it', 409),
  PORT_FORBIDDEN: createError('GRID_ERR_PORT_FORBIDDEN', '%s port %s on %s needs privileges this user lacks: pick one above 1023 with %s', 403),
  ADDRESS_UNAVAILABLE: createError('GRID_ERR_ADDRESS_UNAVAILABLE', '%s address %s is not an address of this machine: pick another with %s', 400),
  // Warnings, logged with their code while the node keeps running (proto/dht-health.ts).
  DHT_UNREACHABLE: createError('GRID_ERR_DHT_UNREACHABLE', 'no DHT node answered (bootstrap %s): check --bootstrap HOST:PORT and that `swarmgrid dht` runs there and its UDP port is reachable; retrying in the background', 503),
} as const;
