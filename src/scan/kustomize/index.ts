import type { Format } from '../types.js';
import { extractKustomize } from './extract.js';

/** kustomization.yaml / kustomization.yml / Kustomization: the `images:` overrides. */
export const kustomizeFormat: Format = {
  name: 'kustomize',
  matches: (path) => /(^|\/)(kustomization\.ya?ml|Kustomization)$/.test(path),
  // Always read: a kustomization without images still links the resources its parent's images apply to.
  mayContainImages: () => true,
  extract: extractKustomize,
};
