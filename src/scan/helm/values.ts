import { type Node, type Pair, Scalar, type YAMLMap, isMap, isScalar } from 'yaml';
import { isTemplated } from '../template.js';
import { type Edit, type ExtractResult, type Finding, ScanSkipReason } from '../types.js';
import { mapGet, parseYaml, scalarSpan } from '../yaml.js';

/**
 * Image blocks in a chart's values files, in the shapes public charts use:
 * - `image: "repo:tag"` (any key `image` or ending in `Image`): the whole reference;
 * - `{registry, repository, tag, digest}`, `{repository, tag}`: the tag defaults to the chart's appVersion when empty;
 * - `{name, tag}` under an image key; maps of such blocks (`images.web.repository`); a second `<x>Repository`
 *   key in a block, with the block's registry and tag;
 * - `global.imageRegistry` (or `global.image.registry`), which overrides every block's registry; a block's
 *   `defaultRegistry` when neither it nor the global one names a registry (kyverno);
 * - top-level `imageRegistry` and `imageNamespace` joined before a block's `name` when it has no `repository`
 *   (cert-manager, trust-manager).
 * Each part keeps its own span: rewrite changes the registry and repository in place and leaves tags, digests,
 * comments and layout as written.
 */
export function extractHelmValues(text: string, appVersion: string | undefined): ExtractResult {
  const { documents, problems } = parseYaml(text);
  const findings: Finding[] = [];
  for (const document of documents) {
    if (!isMap(document.contents)) continue;
    const global = mapGet(document.contents, 'global');
    const globalImage = isMap(global) ? mapGet(global, 'image') : undefined;
    const globalRegistry = isMap(global) ? (stringNode(mapGet(global, 'imageRegistry')) ?? (isMap(globalImage) ? stringNode(mapGet(globalImage, 'registry')) : undefined)) : undefined;
    const rootRegistry = stringNode(mapGet(document.contents, 'imageRegistry'));
    const rootNamespace = stringNode(mapGet(document.contents, 'imageNamespace'));
    const context: Context = { text, appVersion, globalRegistry, rootRegistry, rootNamespace, findings };
    visit(document.contents, [], context);
  }
  findings.sort((left, right) => left.start - right.start);
  return { findings, problems };
}

interface Context {
  readonly text: string;
  readonly appVersion: string | undefined;
  readonly globalRegistry: Scalar | undefined;
  readonly rootRegistry: Scalar | undefined;
  readonly rootNamespace: Scalar | undefined;
  readonly findings: Finding[];
}

const imageKey = /^image$|Image$/;

function visit(node: Node | null | undefined, path: readonly string[], context: Context): void {
  if (!isMap(node)) return;
  for (const pair of node.items as Pair<unknown, Node | null>[]) {
    if (!isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    const value = pair.value;
    const here = [...path, key];
    const imageish = imageKey.test(key) || path[path.length - 1] === 'images';
    if (imageish && isScalar(value) && typeof value.value === 'string' && value.value !== '') {
      context.findings.push(whole(value, here, context));
    } else if (isMap(value) && blockRepository(value, imageish) !== undefined) {
      context.findings.push(block(value, blockRepository(value, imageish) as Scalar, here, context));
      // A second repository in the same block shares its registry and tag (gatekeeper's `image.crdRepository`).
      for (const other of value.items as Pair<unknown, Node | null>[]) {
        const otherKey = isScalar(other.key) ? String(other.key.value) : '';
        const otherValue = stringNode(other.value ?? undefined);
        if (/.Repository$/.test(otherKey) && otherValue !== undefined) context.findings.push(block(value, otherValue, [...here, otherKey], context));
      }
    } else if (key !== 'global') {
      visit(value, here, context);
    }
  }
}

function whole(value: Scalar, path: readonly string[], context: Context): Finding {
  const span = scalarSpan(value, context.text);
  const image = String(value.value);
  const templated = isTemplated(image);
  return {
    start: span.start,
    end: span.end,
    image,
    reference: templated ? undefined : image,
    kind: 'helm-values',
    name: path.join('.'),
    skipReason: templated ? ScanSkipReason.templated : undefined,
    edit: templated ? { kind: 'none', reason: 'templated values are left to their template' } : span.edit,
  };
}

/** The repository of an image block: `repository`, or `name` under an image key. */
function blockRepository(map: YAMLMap, imageish: boolean): Scalar | undefined {
  return stringNode(mapGet(map, 'repository')) ?? (imageish ? stringNode(mapGet(map, 'name')) : undefined);
}

function block(map: YAMLMap, repository: Scalar, path: readonly string[], context: Context): Finding {
  const byName = stringNode(mapGet(map, 'repository')) === undefined;
  const ownRegistry = stringNode(mapGet(map, 'registry')) ?? stringNode(mapGet(map, 'defaultRegistry'));
  const joined = byName && (context.rootRegistry !== undefined || context.rootNamespace !== undefined);
  const registry = context.globalRegistry ?? ownRegistry ?? (joined ? context.rootRegistry : undefined);
  const namespace = joined && context.rootNamespace !== undefined ? `${String(context.rootNamespace.value)}/` : '';
  const tag = textOf(mapGet(map, 'tag'), context.text) || (context.appVersion ?? '');
  const digest = textOf(mapGet(map, 'digest'), context.text);
  const registryText = registry === undefined ? '' : String(registry.value);
  const image = `${registryText === '' ? '' : `${registryText}/`}${namespace}${String(repository.value)}${tag === '' ? '' : `:${tag}`}${digest === '' ? '' : `@${digest}`}`;
  const templated = isTemplated(image);
  // Charts that join imageRegistry/imageNamespace/name take a non-empty `repository` instead, whole (cert-manager,
  // trust-manager): its empty quoted value is where rewrite writes the mirror repository.
  const emptyRepository = joined && ownRegistry === undefined ? quotedEmpty(mapGet(map, 'repository')) : undefined;
  const repositorySpan = scalarSpan(emptyRepository ?? repository, context.text);
  let edit: Edit;
  if (templated) edit = { kind: 'none', reason: 'templated values are left to their template' };
  else if (emptyRepository !== undefined) edit = { kind: 'repository' };
  else if (joined) edit = { kind: 'none', reason: 'the chart joins imageRegistry, imageNamespace and name: change them together' };
  else if (context.globalRegistry !== undefined && registryText !== '') {
    edit = { kind: 'none', reason: 'global.imageRegistry sets the registry of every image: change it and the repositories together' };
  } else if (repositorySpan.edit.kind === 'none') edit = repositorySpan.edit;
  else if (ownRegistry !== undefined && registryText !== '') {
    const registrySpan = scalarSpan(ownRegistry, context.text);
    edit = registrySpan.edit.kind === 'none' ? registrySpan.edit : { kind: 'registry-repository', registryStart: registrySpan.start, registryEnd: registrySpan.end };
  } else edit = { kind: 'repository' };
  return {
    start: repositorySpan.start,
    end: repositorySpan.end,
    image,
    reference: templated ? undefined : image,
    kind: 'helm-values',
    name: path.join('.'),
    skipReason: templated ? ScanSkipReason.templated : undefined,
    edit,
  };
}

function quotedEmpty(node: Node | undefined): Scalar | undefined {
  return isScalar(node) && node.value === '' && (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) ? node : undefined;
}

function stringNode(node: Node | undefined): Scalar | undefined {
  return isScalar(node) && typeof node.value === 'string' && node.value !== '' ? node : undefined;
}

/** A scalar's value as written: a tag `1.10` is "1.10", not the number 1.1. */
function textOf(node: Node | undefined, text: string): string {
  if (!isScalar(node) || node.value === null || node.value === '') return '';
  if (typeof node.value === 'string') return node.value;
  const [start, end] = node.range ?? [0, 0];
  return text.slice(start, end);
}
