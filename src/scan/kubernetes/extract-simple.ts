import { type SimpleMap, type SimpleNode, ScalarForm, readSimple, scalarValue, simpleGet } from '../simple-yaml/index.js';
import type { ExtractResult, Finding } from '../types.js';
import { textSpan } from '../yaml.js';
import { type Owner, containerListKeys, groupKeys, mayHoldPipelines, referenceFinding } from './containers.js';

/**
 * `extractKubernetes` for files in the simple YAML subset (`simple-yaml.ts`), with the same findings, without
 * composing `yaml` Documents; undefined when the file is outside the subset. Merge keys and aliases are outside it,
 * so a plain lookup is what `resolvedGet` would answer.
 */
export function extractKubernetesSimple(text: string): ExtractResult | undefined {
  return readSimple(text, (documents) => {
    const findings: Finding[] = [];
    const pipelines = mayHoldPipelines(text);
    const stringAt = (map: SimpleMap, key: string): string | undefined => {
      const node = simpleGet(map, key);
      return node?.kind === 'scalar' ? scalarValue(text, node) : undefined;
    };
    const nearestObject = (chain: readonly SimpleMap[]): Owner => {
      for (let index = chain.length - 1; index >= 0; index -= 1) {
        const candidate = chain[index];
        if (candidate === undefined) continue;
        const kind = stringAt(candidate, 'kind');
        if (kind === undefined) continue;
        const metadata = simpleGet(candidate, 'metadata');
        return { kind, name: metadata?.kind === 'map' ? stringAt(metadata, 'name') : undefined, apiVersion: stringAt(candidate, 'apiVersion') };
      }
      return { kind: 'unknown', name: undefined, apiVersion: undefined };
    };
    const add = (node: SimpleNode | null | undefined, owner: Owner, container: string | undefined): void => {
      if (node?.kind !== 'scalar') return;
      const value = scalarValue(text, node);
      if (value === undefined) return;
      const quoted = node.form !== ScalarForm.plain;
      findings.push(referenceFinding(value, textSpan(node.start, node.end, quoted, value, text), owner, container));
    };
    const eachContainer = (list: SimpleNode | null | undefined, owner: () => Owner): void => {
      if (list?.kind !== 'seq') return;
      for (const item of list.items) if (item?.kind === 'map') add(simpleGet(item, 'image'), owner(), stringAt(item, 'name'));
    };
    const visit = (map: SimpleMap, ancestors: readonly SimpleMap[]): void => {
      let cached: Owner | undefined;
      const owner = (): Owner => (cached ??= nearestObject([...ancestors, map]));
      for (const key of containerListKeys) eachContainer(simpleGet(map, key), owner);
      const group = !pipelines ? undefined : groupKeys.find((entry) => owner().apiVersion?.startsWith(entry.group) === true);
      if (group !== undefined) {
        for (const key of group.lists) eachContainer(simpleGet(map, key), owner);
        for (const key of group.single) {
          const container = simpleGet(map, key);
          if (container?.kind === 'map') add(simpleGet(container, 'image'), owner(), stringAt(container, 'name'));
        }
      }
      const volumes = simpleGet(map, 'volumes');
      if (volumes?.kind !== 'seq') return;
      for (const volume of volumes.items) {
        if (volume?.kind !== 'map') continue;
        const source = simpleGet(volume, 'image');
        if (source?.kind === 'map') add(simpleGet(source, 'reference'), owner(), `volume ${stringAt(volume, 'name') ?? ''}`.trim());
      }
    };
    const ancestors: SimpleMap[] = [];
    const walk = (node: SimpleNode | null | undefined): void => {
      if (node?.kind === 'map') {
        visit(node, ancestors);
        ancestors.push(node);
        for (const value of node.values) walk(value);
        ancestors.pop();
      } else if (node?.kind === 'seq') {
        for (const item of node.items) walk(item);
      }
    };
    for (const document of documents) walk(document);
    findings.sort((left, right) => left.start - right.start);
    return { findings, problems: [] };
  });
}
