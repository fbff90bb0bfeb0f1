import type { Format } from '../types.js';
import { extractActions } from './extract.js';

/** GitHub Actions workflows: `.github/workflows/*.yml`. */
export const actionsFormat: Format = {
  name: 'github-actions',
  matches: (path) => /(^|\/)\.github\/workflows\/[^/]+\.ya?ml$/i.test(path),
  mayContainImages: (text) => text.includes('container') || text.includes('services') || text.includes(dockerScheme),
  extract: extractActions,
};

const dockerScheme = 'docker://';
