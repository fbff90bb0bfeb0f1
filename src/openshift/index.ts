export { renderMirrorSets } from './mirror-sets.js';
export type { MirrorSetEntry, MirrorSets } from './mirror-sets.js';
