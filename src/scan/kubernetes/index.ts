import type { Format } from '../types.js';
import { extractKubernetes } from './extract.js';

/** Kubernetes manifests: any `.yaml`, `.yml` or `.json` that no more specific format claims. */
export const kubernetesFormat: Format = {
  name: 'kubernetes',
  matches: (path) => /\.(ya?ml|json)$/i.test(path),
  // Only container lists hold images: a file without both words (a Service, a values file) is not parsed.
  mayContainImages: (text) => text.includes('ontainers') && text.includes('image'),
  extract: extractKubernetes,
};
