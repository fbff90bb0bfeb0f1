import { type Document, type Node, Scalar, isAlias, isMap, isScalar, isSeq, parseAllDocuments, type YAMLMap } from 'yaml';
import type { Edit } from './types.js';

/**
 * YAML (and JSON, which YAML reads) documents with source ranges, shared by the YAML formats. Every scalar keeps
 * the offsets of its text, so a reference can be replaced without re-serialising the file: comments, key order,
 * quoting and indentation stay as the user wrote them.
 */

export interface ParsedYaml {
  readonly documents: readonly Document.Parsed[];
  readonly problems: readonly { readonly offset: number; readonly detail: string }[];
}

export function parseYaml(text: string): ParsedYaml {
  const documents = parseAllDocuments(text, { keepSourceTokens: false, uniqueKeys: false, prettyErrors: false });
  const list = Array.isArray(documents) ? documents : [];
  const problems = list.flatMap((document) =>
    document.errors.map((error) => ({ offset: error.pos[0], detail: firstLine(error.message) })),
  );
  return { documents: list.filter((document) => document.errors.length === 0), problems };
}

/** The value under `key` in a map, as a node. */
export function mapGet(map: YAMLMap, key: string): Node | undefined {
  for (const pair of map.items) {
    if (isScalar(pair.key) && pair.key.value === key) return (pair.value ?? undefined) as Node | undefined;
  }
  return undefined;
}

/**
 * The value under `key`, following YAML's conventions users rely on to share values: an alias (`image: *web`)
 * resolves to its anchored node, and a key missing from the map is looked up in its merge keys (`<<: *defaults`,
 * `<<: [*a, *b]`), first one first. The node returned is the one whose text holds the value.
 */
export function resolvedGet(map: YAMLMap, key: string, document: Document.Parsed, depth = 0): Node | undefined {
  const own = mapGet(map, key);
  if (own !== undefined) return isAlias(own) ? (own.resolve(document)) : own;
  if (depth > 8) return undefined;
  const merge = mapGet(map, '<<');
  const sources = isSeq(merge) ? merge.items : merge === undefined ? [] : [merge];
  for (const source of sources) {
    const target = isAlias(source) ? source.resolve(document) : source;
    if (!isMap(target)) continue;
    const found = resolvedGet(target, key, document, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

export function stringAt(map: YAMLMap, key: string): string | undefined {
  const node = mapGet(map, key);
  return isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
}

export interface ScalarSpan {
  readonly start: number;
  readonly end: number;
  /** The kind of edit possible on the scalar's text: `none` when the text is not the value character for character. */
  readonly edit: Edit;
}

/**
 * The characters of a string scalar's value inside the file: inside the quotes for a quoted scalar. A value written
 * with escapes, folded over lines or as a block scalar has no exact span, so it gets an `edit` of `none`.
 */
export function scalarSpan(scalar: Scalar, text: string): ScalarSpan {
  const [start, end] = scalar.range ?? [0, 0];
  const quoted = scalar.type === Scalar.QUOTE_DOUBLE || scalar.type === Scalar.QUOTE_SINGLE;
  if (scalar.type === Scalar.BLOCK_FOLDED || scalar.type === Scalar.BLOCK_LITERAL) {
    return { start, end, edit: { kind: 'none', reason: 'a block scalar (| or >) cannot be changed in place' } };
  }
  return textSpan(start, end, quoted, String(scalar.value), text);
}

/** The span of a one-line scalar whose text (quotes included when `quoted`) is [start, end), holding `value`. */
export function textSpan(start: number, end: number, quoted: boolean, value: string, text: string): ScalarSpan {
  const inner = quoted ? { start: start + 1, end: end - 1 } : { start, end };
  if (text.slice(inner.start, inner.end) !== value) {
    return { ...inner, edit: { kind: 'none', reason: 'the value is written with escapes or over several lines' } };
  }
  return { ...inner, edit: { kind: 'reference' } };
}

/** Calls `visit` for every map in the tree, depth first, with its parent maps (nearest last). */
export function walkMaps(node: unknown, visit: (map: YAMLMap, ancestors: readonly YAMLMap[]) => void, ancestors: YAMLMap[] = []): void {
  if (isMap(node)) {
    visit(node, ancestors);
    ancestors.push(node);
    for (const pair of node.items) walkMaps(pair.value, visit, ancestors);
    ancestors.pop();
  } else if (isSeq(node)) {
    for (const item of node.items) walkMaps(item, visit, ancestors);
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
