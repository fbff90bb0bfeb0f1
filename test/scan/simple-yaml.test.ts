import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Node, isMap, isScalar, isSeq, parseAllDocuments } from 'yaml';
import { extractCompose, extractComposeComposed } from '../../src/scan/compose/extract.js';
import { extractKubernetesComposed } from '../../src/scan/kubernetes/extract.js';
import { extractKubernetesSimple } from '../../src/scan/kubernetes/extract-simple.js';
import { ScalarForm, type SimpleNode, readSimple, scalarValue } from '../../src/scan/simple-yaml/index.js';
import { manifests } from './manifest-arbitrary.js';

/** A tree both readers can be compared on: keys, offsets `yaml` gives, string values (not computed for opaque ones). */
type Shape = null | { m: [string, Shape][] } | { s: Shape[] } | { at: number; end?: number; v?: string | undefined };

function composedShape(node: unknown, text: string): Shape {
  if (node === null || node === undefined) return null;
  if (isMap(node)) return { m: node.items.map((pair) => [isScalar(pair.key) ? String(pair.key.value) : '\u0000', composedShape(pair.value, text)]) };
  if (isSeq(node)) return { s: node.items.map((item) => composedShape(item, text)) };
  if (!isScalar(node)) throw new Error('an alias or an unknown node: the simple reader accepted what it should refuse');
  const [start, end] = node.range ?? [0, 0];
  if (node.value === null && start === end) return null;
  const block = node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED';
  if (block || (node.type === 'QUOTE_DOUBLE' && text.slice(start, end).includes('\\'))) return { at: start };
  return { at: start, end, v: typeof node.value === 'string' ? node.value : undefined };
}

function simpleShape(node: SimpleNode | null | undefined, text: string): Shape {
  if (node === null || node === undefined) return null;
  if (node.kind === 'map') return { m: node.keys.map((key, index) => [key, simpleShape(node.values[index], text)]) };
  if (node.kind === 'seq') return { s: node.items.map((item) => simpleShape(item, text)) };
  if (node.form === ScalarForm.opaque) return { at: node.start };
  return { at: node.start, end: node.end, v: scalarValue(text, node) };
}

/** When the simple reader accepts `text`, `yaml` reads it without an error, to the same tree and the same findings. */
function agrees(text: string): boolean {
  const simple = readSimple(text, (documents) => documents.map((document) => simpleShape(document, text)));
  if (simple === undefined) return false;
  const documents = parseAllDocuments(text, { uniqueKeys: false, prettyErrors: false });
  const list = Array.isArray(documents) ? documents : [];
  expect(list.flatMap((document) => document.errors.map((error) => error.message))).toEqual([]);
  expect(simple.filter((shape) => shape !== null)).toEqual(list.map((document) => composedShape(document.contents as Node, text)).filter((shape) => shape !== null));
  const findings = extractKubernetesSimple(text);
  if (findings !== undefined) expect(findings).toEqual(extractKubernetesComposed(text));
  expect(extractCompose(text)).toEqual(extractComposeComposed(text));
  return true;
}

describe('the simple YAML reader', () => {
  it('reads manifests, JSON and Go templates read as YAML to the same tree as yaml', () => {
    const manifest = `# a comment
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  template:
    spec:
      containers:
      - name: web
        image: "nginx:1.25"   # pinned
        args: [--port, '8080']
        env:
          - name: A
            value: |
              multi
              line
      initContainers: [{name: init, image: 'busybox:1.36'}]
---
name: {{ include "x.fullname" . }}
`;
    expect(agrees(manifest)).toBe(true);
    expect(agrees(JSON.stringify({ kind: 'Pod', spec: { containers: [{ name: 'c', image: 'a:1' }] } }, null, 2))).toBe(true);
    expect(extractKubernetesSimple(manifest)?.findings.map((finding) => finding.image)).toEqual(['nginx:1.25', 'busybox:1.36']);
  });

  it.each([
    ['an anchor', 'a: &x 1\nb: *x\n'],
    ['a merge key', 'a:\n  <<: {image: x}\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a tab', 'a:\tb\n'],
    ['a CR line end', 'a: b\r\n'],
    ['a plain scalar over two lines', 'a: b\n  c\n'],
    ['a quoted scalar over two lines', 'a: "b\n  c"\n'],
    ['a flow collection over two lines', 'a: [b,\n  c]\n'],
    ['a nested mapping on one line (an error)', 'a: b: c\n'],
    ['an unknown escape (an error)', 'a: "\\q"\n'],
    ['a directive', '%YAML 1.2\n---\na: b\n'],
    ['unexpected indentation (an error)', 'a: b\n   c: d\n'],
  ])('refuses %s, leaving it to yaml', (_, text) => {
    expect(readSimple(text, () => true)).toBeUndefined();
  });

  it('agrees with yaml on generated manifests, whatever it accepts', () => {
    fc.assert(
      fc.property(manifests, (text) => {
        agrees(text);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves keys the core schema reads as null, a boolean or a number to the full parser (found by the property below)', () => {
    // yaml reads `~:` as a null key (String() gives "null"), `True:` as true, `0x10:` as 16: not their text.
    for (const text of ['a:\n  ~: x\n', 'a: {~: x}\n', 'True: x\n', '0x10: y\n', '- {null: a, image: b}\n']) {
      expect(readSimple(text, () => true), text).toBeUndefined();
    }
    expect(readSimple('image: x\nname: 1\n', () => true)).toBe(true);
  });

  it('accepts most generated manifests (so the agreement above is about something)', () => {
    const accepted = fc.sample(manifests, { numRuns: 200, seed: 18 }).filter((text) => readSimple(text, () => true) !== undefined);
    expect(accepted.length).toBeGreaterThan(100);
  });

  it('agrees with yaml on manifests with characters YAML cares about dropped in anywhere', () => {
    const edits = fc.array(fc.tuple(fc.nat(), fc.constantFrom(':', ': ', '-', '- ', '#', ' #', '"', "'", '{', '}', '[', ']', ',', '|', '>', '&', '*', '!', '?', '\n', ' ', '  ', '\\', '---\n', 'x')), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(manifests, edits, (text, changes) => {
        let changed = text;
        for (const [at, insert] of changes) {
          const position = at % (changed.length + 1);
          changed = `${changed.slice(0, position)}${insert}${changed.slice(position)}`;
        }
        agrees(changed);
      }),
      { numRuns: 1000 },
    );
  });
});
