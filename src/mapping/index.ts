export { Action, Layout, SkipReason, createMapper, encodeDomain, toRecord } from './map.js';
export type { Decision, DecisionRecord, Mapper, MappingSettings } from './map.js';
export { formatMirrorRegistry, parseMirrorRegistry } from './mirror.js';
export type { MirrorRegistry } from './mirror.js';
export { compileGlob } from './glob.js';
