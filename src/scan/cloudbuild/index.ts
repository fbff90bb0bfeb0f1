import type { Format } from '../types.js';
import { extractCloudBuild } from './extract.js';

/** Cloud Build configs, by the names `gcloud builds submit` looks for (`cloudbuild.yaml`, `cloudbuild-prod.json`…). */
export const cloudBuildFormat: Format = {
  name: 'cloudbuild',
  matches: (path) => /(^|\/)cloudbuild([.-][^/]*)?\.(ya?ml|json)$/i.test(path),
  mayContainImages: (text) => text.includes('steps'),
  extract: extractCloudBuild,
};
