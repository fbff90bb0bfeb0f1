import { type Node, isMap, isNode, isScalar } from 'yaml';
import { scalarFinding } from '../kubernetes/extract.js';
import type { ExtractResult, Finding } from '../types.js';
import { mapGet, parseYaml } from '../yaml.js';

/**
 * A `.ko.yaml`: ko builds Go programs named by `ko://<import path>` references (those are `built`, see
 * `applyBuilt`) on base images it pulls: `defaultBaseImage` and each value of `baseImageOverrides`.
 */
export function extractKo(text: string): ExtractResult {
  const { documents, problems } = parseYaml(text);
  const findings: Finding[] = [];
  for (const document of documents) {
    if (!isMap(document.contents)) continue;
    const base = scalarFinding(mapGet(document.contents, 'defaultBaseImage'), text, { kind: 'ko', name: 'defaultBaseImage' }, undefined);
    if (base !== undefined) findings.push(base);
    const overrides = mapGet(document.contents, 'baseImageOverrides');
    if (!isMap(overrides)) continue;
    for (const pair of overrides.items) {
      const value: Node | undefined = isNode(pair.value) ? pair.value : undefined;
      const finding = scalarFinding(value, text, { kind: 'ko', name: isScalar(pair.key) ? String(pair.key.value) : undefined }, undefined);
      if (finding !== undefined) findings.push(finding);
    }
  }
  return { findings, problems };
}
