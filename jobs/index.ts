export * from './types.js';
export * from './codec.js';
export { builtinKinds, getBuiltinKind } from './registry.js';
export { outputsAgree } from './compare.js';
