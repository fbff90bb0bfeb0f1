import type { Format } from '../types.js';
import { extractKubernetes, mayNameKubernetesImages } from './extract.js';

/** Kubernetes manifests: any `.yaml`, `.yml` or `.json` that no more specific format claims. */
export const kubernetesFormat: Format = {
  name: 'kubernetes',
  matches: (path) => /\.(ya?ml|json)$/i.test(path),
  // Images sit next to these words only: a file without them (a Service, a values file) is not parsed.
  mayContainImages: mayNameKubernetesImages,
  extract: extractKubernetes,
};
