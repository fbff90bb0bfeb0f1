import type { Format } from '../types.js';
import { extractDockerfile } from './extract.js';

/** `Dockerfile`, `Dockerfile.*`, `*.Dockerfile`, `Containerfile`, `Containerfile.*`. */
export const dockerfileFormat: Format = {
  name: 'dockerfile',
  matches: (path) => /(^|\/)((Dockerfile|Containerfile)(\.[^/]*)?|[^/]+\.(Dockerfile|dockerfile|Containerfile))$/.test(path),
  mayContainImages: (text) => /from/i.test(text),
  extract: extractDockerfile,
};
