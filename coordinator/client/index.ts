/**
 * `swarmgrid/client`: the typed HTTP client of a coordinator and the API's types, alone. Loads no
 * store, server, swarm or pool (none of better-sqlite3, Fastify, Hyperswarm, Piscina) and no Node
 * built-in, so it type-checks in a strict project and bundles for browsers (docs/API.md).
 */
export { GridClient, FINAL_STATES } from './grid-client.js';
export type {
  GridClientOptions, SubmitOptions, BatchSpec, BatchPreview, NdjsonHeader, BatchState, BatchStatus, Submitted, ResultLine, KindInfo, KindParam, WorkerInfo, Health,
  Artifact,
} from './types.js';
export type { Policy } from '../policy.js';
export { ClientErrors } from '../errors.js';
export { GridError } from '../../proto/errors.js';
