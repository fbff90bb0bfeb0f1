import type { Format } from '../types.js';
import { extractTiltfile } from './extract.js';

/** Tiltfiles: they name images Tilt builds, not pulls. */
export const tiltFormat: Format = {
  name: 'tilt',
  matches: (path) => /(^|\/)Tiltfile$/.test(path),
  mayContainImages: (text) => text.includes('_build'),
  extract: extractTiltfile,
};
