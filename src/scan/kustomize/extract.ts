import { type Scalar, type YAMLMap, isMap, isScalar, isSeq } from 'yaml';
import { lineEnding } from '../position.js';
import { isTemplated } from '../template.js';
import { type Edit, type ExtractResult, type Finding, ScanSkipReason } from '../types.js';
import { mapGet, parseYaml, scalarSpan } from '../yaml.js';

/**
 * Finds the `images:` entries of a kustomization. The image pulled is `newName` (else `name`) with `digest` (else
 * `newTag`). Rewriting points `newName` at the mirror: an existing `newName` is replaced; an entry without one gets
 * a `newName:` line after its `name:` line, indented like it. `name` itself is the match key and never changes.
 */
export function extractKustomize(text: string): ExtractResult {
  const { documents, problems } = parseYaml(text);
  const findings: Finding[] = [];
  const links: string[] = [];
  for (const document of documents) {
    if (!isMap(document.contents)) continue;
    for (const key of ['resources', 'bases', 'components']) {
      const list = mapGet(document.contents, key);
      if (!isSeq(list)) continue;
      for (const item of list.items) if (isScalar(item) && typeof item.value === 'string') links.push(item.value);
    }
    const images = mapGet(document.contents, 'images');
    if (!isSeq(images)) continue;
    for (const entry of images.items) {
      if (!isMap(entry)) continue;
      const finding = entryFinding(entry, text);
      if (finding !== undefined) findings.push(finding);
    }
  }
  return { findings, problems, links };
}

function entryFinding(entry: YAMLMap, text: string): Finding | undefined {
  const name = scalarOf(entry, 'name');
  if (name === undefined) return undefined;
  const newName = scalarOf(entry, 'newName');
  const repository = String((newName ?? name).value);
  const digest = scalarText(entry, 'digest');
  const newTag = scalarText(entry, 'newTag');
  const suffix = digest !== undefined ? `@${digest}` : newTag !== undefined ? `:${newTag}` : '';
  const reference = `${repository}${suffix}`;
  const templated = isTemplated(reference);
  const common = {
    kind: 'kustomize',
    name: String(name.value),
    reference: templated ? undefined : reference,
    skipReason: templated ? ScanSkipReason.templated : undefined,
  };
  const templatedEdit: Edit = { kind: 'none', reason: 'templated values are left to their template' };
  if (newName !== undefined) {
    const span = scalarSpan(newName, text);
    const edit: Edit = templated ? templatedEdit : span.edit.kind === 'reference' ? { kind: 'repository' } : span.edit;
    return { ...common, start: span.start, end: span.end, image: reference, edit };
  }
  const nameStart = name.range?.[0] ?? 0;
  const insertAt = endOfLine(text, name.range?.[1] ?? nameStart);
  let edit: Edit;
  if (templated) edit = templatedEdit;
  else if (entry.flow === true) edit = { kind: 'none', reason: 'a flow mapping ({name: …}) entry; add newName by hand' };
  else edit = { kind: 'insert', prefix: `${lineEnding(text)}${' '.repeat(keyColumn(entry, text))}newName: ` };
  return { ...common, start: insertAt, end: insertAt, at: nameStart, image: reference, edit };
}

/** A string or number field as text (`newTag: 1.27` is a number to YAML, a tag to kustomize). */
function scalarText(map: YAMLMap, key: string): string | undefined {
  const scalar = scalarOf(map, key);
  if (scalar === undefined) return undefined;
  // `newTag: 1.10` is the tag "1.10" to kustomize, not the number 1.1: numbers keep their source text.
  return typeof scalar.value === 'number' ? (scalar.source ?? String(scalar.value)) : String(scalar.value);
}

function scalarOf(map: YAMLMap, key: string): Scalar | undefined {
  const node = mapGet(map, key);
  return isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') ? node : undefined;
}

/** The column of the entry's keys (where the `name` key starts on its line). */
function keyColumn(entry: YAMLMap, text: string): number {
  const firstKey = entry.items[0]?.key;
  const offset = isScalar(firstKey) ? (firstKey.range?.[0] ?? 0) : 0;
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

function endOfLine(text: string, offset: number): number {
  const newline = text.indexOf('\n', offset);
  if (newline === -1) return text.length;
  return newline > 0 && text[newline - 1] === '\r' ? newline - 1 : newline;
}
