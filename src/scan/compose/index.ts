import type { Format } from '../types.js';
import { extractCompose } from './extract.js';

/** Docker Compose files, by the names `docker compose` looks for (`compose.yaml`, `docker-compose.override.yml`…). */
export const composeFormat: Format = {
  name: 'compose',
  matches: (path) => /(^|\/)(docker-)?compose([.-][^/]*)?\.ya?ml$/i.test(path),
  mayContainImages: (text) => text.includes('image'),
  extract: extractCompose,
};
