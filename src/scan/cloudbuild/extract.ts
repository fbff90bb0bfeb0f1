import { isMap, isSeq } from 'yaml';
import { scalarFinding } from '../kubernetes/extract.js';
import type { ExtractResult, Finding } from '../types.js';
import { mapGet, parseYaml, resolvedGet, stringAt } from '../yaml.js';

/** `steps[].name` of a Cloud Build config (YAML or JSON): each step runs in the image it names. */
export function extractCloudBuild(text: string): ExtractResult {
  const { documents, problems } = parseYaml(text);
  const findings: Finding[] = [];
  for (const document of documents) {
    if (!isMap(document.contents)) continue;
    const steps = mapGet(document.contents, 'steps');
    if (!isSeq(steps)) continue;
    steps.items.forEach((step, index) => {
      if (!isMap(step)) return;
      const finding = scalarFinding(resolvedGet(step, 'name', document), text, { kind: 'cloudbuild', name: stringAt(step, 'id') ?? `step ${index + 1}` }, undefined);
      if (finding !== undefined) findings.push(finding);
    });
  }
  return { findings, problems };
}
