/** The package's public face: `import { GridClient, Coordinator, WorkerAgent } from 'swarmgrid'`. */
export { GridClient, type GridClientOptions, type BatchSpec, type BatchStatus, type ResultLine } from './client/grid-client.js';
export { Coordinator, type CoordinatorOptions } from './coordinator.js';
export { resolvePolicy, type Policy, type ResolvedPolicy } from './policy.js';
export { WorkerAgent, type WorkerOptions } from '../worker/agent.js';
export { GridError } from '../proto/errors.js';
export { startBootstrap, gridTopic, parseBootstrap } from '../proto/discovery.js';
export type { JobKind, Artifact, Comparator, Reducer } from '../jobs/types.js';
