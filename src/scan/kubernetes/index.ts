import { extractHelmTemplate } from '../helm/templates.js';
import type { ExtractResult, Format } from '../types.js';
import { extractKubernetes, mayNameKubernetesImages } from './extract.js';

/** Kubernetes manifests: any `.yaml`, `.yml` or `.json` that no more specific format claims. */
export const kubernetesFormat: Format = {
  name: 'kubernetes',
  matches: (path) => /\.(ya?ml|json)$/i.test(path),
  // Images sit next to these words only: a file without them (a Service, a values file) is not parsed.
  mayContainImages: mayNameKubernetesImages,
  extract: extractManifestOrTemplate,
};

/**
 * A Go template that is not YAML until rendered (a chart's `templates/` scanned without its Chart.yaml) is read
 * line by line like any chart template: its `{{ … }}` images are templated, its literal ones found — never a file
 * skipped as unparsable.
 */
function extractManifestOrTemplate(text: string): ExtractResult {
  const result = extractKubernetes(text);
  return result.problems.length > 0 && text.includes('{{') ? extractHelmTemplate(text) : result;
}
