import type { Format } from '../types.js';
import { extractKubernetes } from './extract.js';

/** Kubernetes manifests: any `.yaml`, `.yml` or `.json` that no more specific format claims. */
export const kubernetesFormat: Format = {
  name: 'kubernetes',
  matches: (path) => /\.(ya?ml|json)$/i.test(path),
  mayContainImages: (text) => text.includes('image'),
  extract: extractKubernetes,
};
