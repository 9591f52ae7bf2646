/** The package's public face: `import { GridClient, Coordinator, WorkerAgent } from 'swarmgrid'`. */
export { GridClient, FINAL_STATES } from './client/index.js';
export type {
  GridClientOptions, BatchSpec, BatchPreview, NdjsonHeader, BatchState, BatchStatus, Submitted, ResultLine, KindInfo, KindParam, WorkerInfo, Health,
  Artifact as BatchArtifact,
} from './client/index.js';
export { CoordinatorErrors, ClientErrors } from './errors.js';
export { Coordinator, type CoordinatorOptions } from './coordinator.js';
export { resolvePolicy, type Policy, type ResolvedPolicy } from './policy.js';
export { WorkerAgent, type WorkerOptions } from '../worker/agent.js';
export { GridError } from '../proto/errors.js';
export { startBootstrap, gridTopic, parseBootstrap } from '../proto/discovery.js';
export type { JobKind, Artifact, Comparator, Reducer } from '../jobs/types.js';
