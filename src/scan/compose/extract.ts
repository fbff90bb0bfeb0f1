import { isMap, isScalar } from 'yaml';
import { isTemplated } from '../template.js';
import { type ExtractResult, type Finding, ScanSkipReason } from '../types.js';
import { mapGet, parseYaml, resolvedGet, scalarSpan } from '../yaml.js';

/** `services.<name>.image` of a Compose file. A service that only builds has no image and is not listed. */
export function extractCompose(text: string): ExtractResult {
  const { documents, problems } = parseYaml(text);
  const findings: Finding[] = [];
  for (const document of documents) {
    if (!isMap(document.contents)) continue;
    const services = mapGet(document.contents, 'services');
    if (!isMap(services)) continue;
    for (const pair of services.items) {
      if (!isMap(pair.value)) continue;
      const image = resolvedGet(pair.value, 'image', document);
      if (!isScalar(image) || typeof image.value !== 'string') continue;
      const span = scalarSpan(image, text);
      const templated = isTemplated(image.value);
      findings.push({
        start: span.start,
        end: span.end,
        image: image.value,
        reference: templated ? undefined : image.value,
        kind: 'compose',
        name: isScalar(pair.key) ? String(pair.key.value) : undefined,
        skipReason: templated ? ScanSkipReason.templated : undefined,
        edit: templated ? { kind: 'none', reason: 'templated values are left to their template' } : span.edit,
      });
    }
  }
  return { findings, problems };
}
