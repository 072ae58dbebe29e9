export { KeyRegistry, type KeyRegistryOptions } from './key-registry.js';
export type { KeySetStatus } from './issuer-key-set.js';
export { keyFitsAlg, keyRejection } from './key-filter.js';
