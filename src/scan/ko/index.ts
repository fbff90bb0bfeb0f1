import type { Format } from '../types.js';
import { extractKo } from './extract.js';

/** ko's config, `.ko.yaml`: the base images ko pulls. */
export const koFormat: Format = {
  name: 'ko',
  matches: (path) => /(^|\/)\.ko\.ya?ml$/i.test(path),
  mayContainImages: (text) => text.includes('BaseImage'),
  extract: extractKo,
};
