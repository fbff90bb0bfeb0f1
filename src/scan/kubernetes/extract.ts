import { type Node, type YAMLMap, isMap, isScalar, isSeq } from 'yaml';
import type { ExtractResult, Finding } from '../types.js';
import { mapGet, parseYaml, resolvedGet, scalarSpan, stringAt, walkMaps } from '../yaml.js';
import { type Owner, containerListKeys, groupKeys, mayHoldPipelines, referenceFinding } from './containers.js';
import { extractKubernetesSimple } from './extract-simple.js';

/** Cheap test before parsing: an image can only be named next to one of these words. */
export function mayNameKubernetesImages(text: string): boolean {
  return (
    text.includes('image') &&
    (text.includes('ontainers') || text.includes('tekton.dev/') || text.includes('argoproj.io/') || text.includes('volumes'))
  );
}

/**
 * Finds `image:` in every container list of every document, at any depth: workload templates, CronJob job
 * templates, `List` items, custom resources that embed a PodSpec (Knative and Cloud Run services among them),
 * Tekton steps and Argo templates. Image volumes (`volumes[].image.reference`, Kubernetes 1.35) are pulled too.
 * Only these keys count, so an `image:` in a comment or in an unrelated key is never taken for one.
 */
export function extractKubernetes(text: string): ExtractResult {
  return extractKubernetesSimple(text) ?? extractKubernetesComposed(text);
}

/** The same, from the `yaml` package's composed documents: any YAML, and its syntax errors as problems. */
export function extractKubernetesComposed(text: string): ExtractResult {
  const { documents, problems } = parseYaml(text);
  const findings: Finding[] = [];
  const pipelines = mayHoldPipelines(text);
  for (const document of documents) {
    walkMaps(document.contents, (map, ancestors) => {
      let cached: Owner | undefined;
      const owner = (): Owner => (cached ??= nearestObject([...ancestors, map]));
      for (const key of containerListKeys) eachContainer(mapGet(map, key), (container) => push(container, owner()));
      const group = !pipelines ? undefined : groupKeys.find((entry) => owner().apiVersion?.startsWith(entry.group) === true);
      if (group !== undefined) {
        for (const key of group.lists) eachContainer(mapGet(map, key), (container) => push(container, owner()));
        for (const key of group.single) {
          const container = mapGet(map, key);
          if (isMap(container)) push(container, owner());
        }
      }
      const volumes = mapGet(map, 'volumes');
      if (isSeq(volumes)) {
        for (const volume of volumes.items) {
          if (!isMap(volume)) continue;
          const source = mapGet(volume, 'image');
          if (!isMap(source)) continue;
          const finding = scalarFinding(resolvedGet(source, 'reference', document), text, owner(), `volume ${stringAt(volume, 'name') ?? ''}`.trim());
          if (finding !== undefined) findings.push(finding);
        }
      }
    });

    function push(container: YAMLMap, owner: Owner): void {
      // `image: *web` names the anchored scalar: its text is what is pulled, and what rewrite changes (for every alias).
      const finding = scalarFinding(resolvedGet(container, 'image', document), text, owner, stringAt(container, 'name'));
      if (finding !== undefined) findings.push(finding);
    }
  }
  findings.sort((left, right) => left.start - right.start);
  return { findings, problems };
}

function eachContainer(list: Node | undefined, visit: (container: YAMLMap) => void): void {
  if (!isSeq(list)) return;
  for (const item of list.items) if (isMap(item)) visit(item);
}

/** A finding for a scalar that holds a whole image reference, or undefined when the node is not a string. */
export function scalarFinding(
  image: Node | undefined,
  text: string,
  owner: { kind: string; name: string | undefined },
  container: string | undefined,
): Finding | undefined {
  if (!isScalar(image) || typeof image.value !== 'string') return undefined;
  return referenceFinding(image.value, scalarSpan(image, text), owner, container);
}

/** The innermost enclosing object with a `kind` (a `List` item, not the `List`). */
function nearestObject(chain: readonly YAMLMap[]): Owner {
  for (let index = chain.length - 1; index >= 0; index -= 1) {
    const candidate = chain[index];
    if (candidate === undefined) continue;
    const kind = stringAt(candidate, 'kind');
    if (kind === undefined) continue;
    const metadata = mapGet(candidate, 'metadata');
    return { kind, name: isMap(metadata) ? stringAt(metadata, 'name') : undefined, apiVersion: stringAt(candidate, 'apiVersion') };
  }
  return { kind: 'unknown', name: undefined, apiVersion: undefined };
}
