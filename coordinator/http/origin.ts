/**
 * Which web pages may open the volunteer WebSocket. Browsers do not apply the same-origin policy
 * to WebSockets: without a check, any site could enlist its visitors' browsers as volunteers
 * (and have them lie). A browser always sends `Origin` with a WebSocket request, so the check
 * is on that header: the coordinator's own page, or an origin the operator allowed.
 */
import { isIP } from 'node:net';

/** A Host header we can read an origin from (the same characters contentSecurityPolicy accepts). */
const HOST = /^[A-Za-z0-9.\-:[\]]+$/;

/**
 * An origin as browsers send it (`scheme://host[:port]`, lower case, default port left out).
 * Throws a TypeError for anything but an http(s) origin without path, query or credentials.
 */
export function normalizeOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`"${value}" is not an origin like https://volunteer.example.org`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new TypeError(`"${value}" is not an origin like https://volunteer.example.org (http or https, no path)`);
  }
  return url.origin;
}

/**
 * Whether a WebSocket request may proceed: no `Origin` at all (not a browser; such a client can
 * claim any origin anyway, so refusing it would protect nothing), one of `allowed` (normalized
 * with `normalizeOrigin`), or the page's own origin when that is an address, not a name (the
 * request's `Host` over http or https: behind a TLS proxy the page is https while this server
 * speaks http).
 *
 * Why not any name in `Host`: with DNS rebinding, a site points its own name at this
 * coordinator, and its page's requests then carry `Host` and `Origin` of that name, equal to
 * each other. Only an address (or `localhost`, which browsers resolve to loopback themselves)
 * cannot be rebound; a coordinator served under a DNS name lists it with `--allow-origin`.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  let given: string;
  try {
    given = normalizeOrigin(origin);
  } catch {
    return false; // "null" (sandboxed frames, file: pages) and anything malformed
  }
  if (allowed.has(given)) return true;
  if (!host || !HOST.test(host)) return false;
  const own = new URL(`http://${host}`).hostname;
  if (own !== 'localhost' && isIP(own.replace(/^\[|\]$/g, '')) === 0) return false;
  return given === normalizeOrigin(`http://${host}`) || given === normalizeOrigin(`https://${host}`);
}
