/**
 * What a listening socket that cannot bind turns into: a coded one-line error that names the
 * option to change (`GRID_ERR_PORT_IN_USE …: pick another with --http-port`), instead of a raw
 * `EADDRINUSE` stack from node:net or udx. Every listening port of the CLI goes through here:
 * `swarmgrid dht --port`, `swarmgrid coordinator --http-port`.
 */
import { GridError, ProtoErrors } from './errors.js';

export interface ListenTarget {
  /** What listens, for the message: 'HTTP', 'DHT (UDP)'. */
  what: string;
  port: number;
  host: string;
  /** The options that choose the port and the address, e.g. '--http-port' and '--http-host'. */
  portOption: string;
  hostOption: string;
}

/** The GridError for a bind failure, or `err` itself when it is no bind failure. */
export function listenError(err: unknown, target: ListenTarget): unknown {
  const code = (err as { code?: string } | null)?.code;
  const { what, port, host } = target;
  let coded: GridError | undefined;
  if (code === 'EADDRINUSE') coded = ProtoErrors.PORT_IN_USE(what, port, host, target.portOption);
  else if (code === 'EACCES') coded = ProtoErrors.PORT_FORBIDDEN(what, port, host, target.portOption);
  else if (code === 'EADDRNOTAVAIL') coded = ProtoErrors.ADDRESS_UNAVAILABLE(what, host, target.hostOption);
  if (!coded) return err;
  return new GridError(coded.code, coded.message, coded.statusCode, { cause: err });
}
