// Public surface of registry/ (filled in by the registry work).
export * from './errors.js';
export * from './log.js';
export * from './model.js';
export * from './version.js';
export * from './catalog-types.js';
export * from './validate.js';
export * from './catalog.js';
export * from './local-registry.js';
export * from './file-store.js';
export * from './catalog-persister.js';
export * from './sources/static-source.js';
export * from './sources/source-set.js';
export * from './sources/source-kinds.js';
export * from './sources/agent-source.js';
export * from './sources/consul-source.js';
export { checkFields, isPlainObject, type PlainObject } from './field-checks.js';
export { listenOn } from './listen.js';
export { readOptional, syncDirectory, writeAtomic } from './atomic-file.js';
