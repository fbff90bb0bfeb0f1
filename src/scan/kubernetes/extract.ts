import { type Document, type YAMLMap, isMap, isScalar, isSeq } from 'yaml';
import { isTemplated } from '../template.js';
import { type ExtractResult, type Finding, ScanSkipReason } from '../types.js';
import { mapGet, parseYaml, resolvedGet, scalarSpan, stringAt, walkMaps } from '../yaml.js';

/** The PodSpec lists that hold containers; anything that embeds a PodSpec (any kind, any depth) has them. */
export const containerListKeys = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/**
 * Finds `image:` in every container list of every document, at any depth: workload templates, CronJob job
 * templates, `List` items, custom resources that embed a PodSpec. Only container lists count, so an `image:` in a
 * comment or in an unrelated key is never taken for one.
 */
export function extractKubernetes(text: string): ExtractResult {
  const { documents, problems } = parseYaml(text);
  const findings: Finding[] = [];
  for (const document of documents) {
    walkMaps(document.contents, (map, ancestors) => {
      for (const key of containerListKeys) {
        const list = mapGet(map, key);
        if (!isSeq(list)) continue;
        const owner = nearestObject([...ancestors, map]);
        for (const container of list.items) {
          if (!isMap(container)) continue;
          const finding = imageFinding(container, text, owner, document);
          if (finding !== undefined) findings.push(finding);
        }
      }
    });
  }
  findings.sort((left, right) => left.start - right.start);
  return { findings, problems };
}

function imageFinding(
  container: YAMLMap,
  text: string,
  owner: { kind: string; name: string | undefined },
  document: Document.Parsed,
): Finding | undefined {
  // `image: *web` names the anchored scalar: its text is what is pulled, and what rewrite changes (for every alias).
  const image = resolvedGet(container, 'image', document);
  if (!isScalar(image) || typeof image.value !== 'string') return undefined;
  const value = image.value;
  const span = scalarSpan(image, text);
  const templated = isTemplated(value);
  return {
    start: span.start,
    end: span.end,
    image: value,
    reference: templated ? undefined : value,
    kind: owner.kind,
    name: owner.name,
    container: stringAt(container, 'name'),
    skipReason: templated ? ScanSkipReason.templated : undefined,
    edit: templated ? { kind: 'none', reason: 'templated values are left to their template' } : span.edit,
  };
}

/** The innermost enclosing object with a `kind` (a `List` item, not the `List`). */
function nearestObject(chain: readonly YAMLMap[]): { kind: string; name: string | undefined } {
  for (let index = chain.length - 1; index >= 0; index -= 1) {
    const candidate = chain[index];
    if (candidate === undefined) continue;
    const kind = stringAt(candidate, 'kind');
    if (kind === undefined) continue;
    const metadata = mapGet(candidate, 'metadata');
    return { kind, name: isMap(metadata) ? stringAt(metadata, 'name') : undefined };
  }
  return { kind: 'unknown', name: undefined };
}
