import { isMap, isScalar } from 'yaml';
import { isTemplated } from '../template.js';
import { type ExtractResult, type Finding, ScanSkipReason } from '../types.js';
import { ScalarForm, collectionKey, isPlainString, readSimple, refuse, scalarValue, simpleGet } from '../simple-yaml/index.js';
import { type ScalarSpan, mapGet, parseYaml, resolvedGet, scalarSpan, textSpan } from '../yaml.js';

/** `services.<name>.image` of a Compose file. A service that only builds has no image and is not listed. */
export function extractCompose(text: string): ExtractResult {
  return extractComposeSimple(text) ?? extractComposeComposed(text);
}

/** The same from the simple YAML reader (no anchors, no merge keys: most Compose files without `x-` templates). */
function extractComposeSimple(text: string): ExtractResult | undefined {
  return readSimple(text, (documents) => {
    const findings: Finding[] = [];
    for (const root of documents) {
      const services = root?.kind === 'map' ? simpleGet(root, 'services') : undefined;
      if (services?.kind !== 'map') continue;
      services.keys.forEach((name, index) => {
        const service = services.values[index];
        const image = service?.kind === 'map' ? simpleGet(service, 'image') : undefined;
        const value = image?.kind === 'scalar' ? scalarValue(text, image) : undefined;
        if (image?.kind !== 'scalar' || value === undefined) return;
        // A key YAML reads as a number, a boolean or null would be named by its value (`~` is "null"): left to yaml.
        if (name === collectionKey || !isPlainString(name)) refuse();
        findings.push(composeFinding(value, textSpan(image.start, image.end, image.form !== ScalarForm.plain, value, text), name));
      });
    }
    return { findings, problems: [] };
  });
}

export function extractComposeComposed(text: string): ExtractResult {
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
      findings.push(composeFinding(image.value, scalarSpan(image, text), isScalar(pair.key) ? String(pair.key.value) : undefined));
    }
  }
  return { findings, problems };
}

function composeFinding(value: string, span: ScalarSpan, service: string | undefined): Finding {
  const templated = isTemplated(value);
  return {
    start: span.start,
    end: span.end,
    image: value,
    reference: templated ? undefined : value,
    kind: 'compose',
    name: service,
    skipReason: templated ? ScanSkipReason.templated : undefined,
    edit: templated ? { kind: 'none', reason: 'templated values are left to their template' } : span.edit,
  };
}
