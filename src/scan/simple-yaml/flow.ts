import {
  type SimpleNode,
  type SimpleScalar,
  ScalarForm,
  collectionKey,
  colon,
  dash,
  flowEnd,
  hash,
  newline,
  plainForm,
  quotedEnd,
  quotedForm,
  refuse,
  reservedStart,
  scalarValue,
  space,
} from './nodes.js';

/**
 * Flow collections (`{a: b}`, `[a, b]`) of the simple subset: on one line inside block YAML, or over any number of
 * lines when `lines` (a whole-file collection: JSON). Refuses what the subset leaves to `yaml`.
 */
export class FlowReader {
  constructor(
    private readonly text: string,
    private readonly lines: boolean,
  ) {}

  /** Skips spaces and comments, and line breaks when `lines`; refuses a document marker inside a collection. */
  skip(from: number): number {
    const text = this.text;
    let index = from;
    for (;;) {
      const character = text.charCodeAt(index);
      if (character === space) index += 1;
      else if (character === newline && this.lines) {
        index += 1;
        if (text.startsWith('---', index) || text.startsWith('...', index)) refuse();
      } else if (character === hash && this.lines && (index === 0 || text.charCodeAt(index - 1) === space || text.charCodeAt(index - 1) === newline)) {
        const end = text.indexOf('\n', index);
        index = end === -1 ? text.length : end;
      } else return index;
    }
  }

  node(start: number): [SimpleNode, number] {
    const text = this.text;
    const first = text.charCodeAt(start);
    if (first === 123 || first === 91) return this.collection(start);
    if (first === 34 || first === 39) {
      const end = quotedEnd(text, start);
      if (end === -1) refuse();
      return [{ kind: 'scalar', start, end, form: quotedForm(text, start, end) }, end];
    }
    if (reservedStart.has(first) || Number.isNaN(first) || first === newline) refuse();
    if (first === dash) {
      // `-v` is a plain scalar; `- ` and `-,` are not.
      const next = text.charCodeAt(start + 1);
      if (next === space || next === newline || flowEnd.has(next) || Number.isNaN(next)) refuse();
    }
    let index = start;
    for (; index < text.length; index += 1) {
      const character = text.charCodeAt(index);
      if (character === newline || flowEnd.has(character)) break;
      if (character === colon) {
        const next = text.charCodeAt(index + 1);
        if (next === space || next === newline || flowEnd.has(next) || Number.isNaN(next)) break;
      }
      if (character === hash && text.charCodeAt(index - 1) === space) break;
    }
    let end = index;
    while (text.charCodeAt(end - 1) === space) end -= 1;
    return [{ kind: 'scalar', start, end, form: plainForm(text, start, end) }, index];
  }

  /** A `{…}` or `[…]` at `start`; entries need a value (`{a, b}` and `[a: b]` are refused), a trailing comma is fine. */
  private collection(start: number): [SimpleNode, number] {
    const text = this.text;
    const isMap = text.charCodeAt(start) === 123;
    const close = isMap ? 125 : 93;
    const keys: string[] = [];
    const values: (SimpleNode | null)[] = [];
    let index = this.skip(start + 1);
    while (text.charCodeAt(index) !== close) {
      if (isMap) {
        const [key, afterKey] = this.node(index);
        index = this.skipSpacesOnly(afterKey);
        const character = text.charCodeAt(index);
        // An entry without a value (`{a, b}`), and a Go template read as YAML: `{{ include "x" . }}` is a map whose
        // key is a map; no lookup matches such a key.
        if (character === 44 || character === close) {
          keys.push(key.kind === 'scalar' ? this.key(key) : collectionKey);
          values.push(null);
          index = this.afterEntry(index, close);
          continue;
        }
        if (key.kind !== 'scalar' || character !== colon) refuse();
        const name = this.key(key);
        const next = text.charCodeAt(index + 1);
        if (key.form === ScalarForm.plain && next !== space && next !== newline) refuse();
        index = this.skip(index + 1);
        keys.push(name);
        const valueStart = text.charCodeAt(index);
        if (valueStart === 44 || valueStart === close) values.push(null);
        else {
          const [value, afterValue] = this.node(index);
          values.push(value);
          index = this.skip(afterValue);
        }
      } else {
        const [item, afterItem] = this.node(index);
        values.push(item);
        index = this.skip(afterItem);
        if (text.charCodeAt(index) === colon) refuse();
      }
      index = this.afterEntry(index, close);
    }
    const node: SimpleNode = isMap ? { kind: 'map', keys, values } : { kind: 'seq', items: values };
    return [node, index + 1];
  }

  /** After an entry of a flow collection: past its comma, or at its closing bracket. */
  private afterEntry(index: number, close: number): number {
    const character = this.text.charCodeAt(index);
    if (character === 44) return this.skip(index + 1);
    if (character !== close) refuse();
    return index;
  }

  /**
   * A flow map's scalar key as lookups see it; a merge key, a plain key with a colon, and a plain key the core schema
   * reads as null, a boolean or a number (not the text it is written as) are refused.
   */
  private key(key: SimpleScalar): string {
    if (key.form === ScalarForm.opaque || key.form === ScalarForm.notString) refuse();
    const name = scalarValue(this.text, key) ?? this.text.slice(key.start, key.end);
    if (name === '<<' || (key.form === ScalarForm.plain && name.includes(':'))) refuse();
    return name;
  }

  private skipSpacesOnly(from: number): number {
    let index = from;
    while (this.text.charCodeAt(index) === space) index += 1;
    return index;
  }
}
