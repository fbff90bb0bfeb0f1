import type { Format } from '../types.js';
import { extractSkaffold } from './extract.js';

/** Skaffold configs (`skaffold.yaml`, `skaffold-dev.yaml`…): they name images that are built, not pulled. */
export const skaffoldFormat: Format = {
  name: 'skaffold',
  matches: (path) => /(^|\/)skaffold([.-][^/]*)?\.ya?ml$/i.test(path),
  mayContainImages: (text) => text.includes('artifacts'),
  extract: extractSkaffold,
};
