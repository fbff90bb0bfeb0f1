/**
 * A reader for the plain subset of YAML that manifests are almost always written in: block maps and sequences,
 * scalars on one line, flow collections on one line, block scalars (skipped), comments, several documents, and a
 * whole-file flow collection (JSON). It is several times faster than composing `yaml` Documents, and it refuses
 * (answers undefined) everything else and everything the `yaml` package could read differently or call an error:
 * anchors, aliases, tags, merge keys, directives, scalars over several lines, tabs, CR line ends, unexpected
 * indentation. The caller then reads the file with the `yaml` package, so a refusal costs time, never a result
 * (ADR 0190). Block structure here; flow collections in flow.ts.
 */

import { FlowReader } from './flow.js';
import {
  type SimpleMap,
  type SimpleNode,
  type SimpleScalar,
  type SimpleSeq,
  Refused,
  ScalarForm,
  colon,
  dash,
  isPlainString,
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

export {
  ScalarForm,
  type SimpleMap,
  type SimpleNode,
  type SimpleScalar,
  type SimpleSeq,
  collectionKey,
  isPlainString,
  refuse,
  scalarValue,
  simpleGet,
} from './nodes.js';

/**
 * Runs `read` over the documents of `text` (each one's root node, null when empty), or answers undefined when the
 * text is outside the subset, or when `read` asks for a value the subset does not compute (`scalarValue`).
 */
export function readSimple<T>(text: string, read: (documents: readonly (SimpleNode | null)[]) => T): T | undefined {
  // Tabs, CR, control characters, a byte-order mark and Unicode line breaks are where YAML's rules get subtle.
  if (hasSubtleCharacters(text)) return undefined;
  try {
    return read(new Reader(text).documents());
  } catch (error) {
    if (error instanceof Refused) return undefined;
    throw error;
  }
}

class Reader {
  /** Start of the current content line, its end (a newline or the text's end), its indentation (-1: none left). */
  private pos = 0;
  private lineEnd = 0;
  private indent = -1;
  /** The key `keyAt` last read; where the run `plainRun` last read ends. */
  private key = '';
  private runEnd = 0;

  constructor(private readonly text: string) {}

  documents(): (SimpleNode | null)[] {
    const text = this.text;
    const documents: (SimpleNode | null)[] = [];
    this.seek(0);
    for (;;) {
      const root = this.indent >= 0 ? this.block(this.indent, -1) : null;
      if (this.indent !== -1) refuse();
      documents.push(root);
      if (this.pos >= text.length) return documents;
      // A document marker: `---` alone (or before a comment); `...` and content after `---` are refused.
      if (!text.startsWith('---', this.pos)) refuse();
      const rest = this.skipSpaces(this.pos + 3);
      if (rest !== this.lineEnd && text.charCodeAt(rest) !== hash) refuse();
      this.seek(this.lineEnd + 1);
    }
  }

  /** Moves to the first line at or after `from` (a line start) with content, skipping blank and comment lines. */
  private seek(from: number): void {
    const text = this.text;
    let start = from;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      let column = start;
      while (column < end && text.charCodeAt(column) === space) column += 1;
      if (column < end && text.charCodeAt(column) !== hash) {
        this.pos = start;
        this.lineEnd = end;
        this.indent = column - start;
        if (column === start && (text.startsWith('---', start) || text.startsWith('...', start))) {
          // A document marker; `---x` is a scalar in YAML, but not one worth the subtlety.
          if (start + 3 !== end && text.charCodeAt(start + 3) !== space) refuse();
          this.indent = -1;
        }
        return;
      }
      start = end + 1;
    }
    this.pos = text.length;
    this.lineEnd = text.length;
    this.indent = -1;
  }

  private skipSpaces(from: number): number {
    let index = from;
    while (index < this.lineEnd && this.text.charCodeAt(index) === space) index += 1;
    return index;
  }

  private isDash(index: number): boolean {
    if (this.text.charCodeAt(index) !== dash) return false;
    const next = this.text.charCodeAt(index + 1);
    return next === space || next === newline || index + 1 >= this.text.length;
  }

  /** The node starting on the current line at column `indent`, inside a parent at `parentIndent`. */
  private block(indent: number, parentIndent: number): SimpleNode | null {
    const start = this.pos + indent;
    if (this.isDash(start)) return this.seq(indent);
    if (this.keyAt(start) !== -1) return this.map(indent, start);
    return this.inline(start, parentIndent);
  }

  private seq(indent: number): SimpleSeq {
    const items: (SimpleNode | null)[] = [];
    for (;;) {
      items.push(this.value(this.pos + indent + 1, indent, true));
      if (this.indent !== indent) {
        if (this.indent > indent) refuse();
        return { kind: 'seq', items };
      }
      if (!this.isDash(this.pos + indent)) return { kind: 'seq', items };
    }
  }

  /** A map at column `indent` whose first key starts at `first` (after `- ` for a map inside a sequence item). */
  private map(indent: number, first: number): SimpleMap {
    const keys: string[] = [];
    const values: (SimpleNode | null)[] = [];
    let start = first;
    for (;;) {
      const colonAt = this.keyAt(start);
      if (colonAt === -1) refuse();
      keys.push(this.key);
      values.push(this.value(colonAt + 1, indent, false));
      if (this.indent !== indent) {
        if (this.indent > indent) refuse();
        return { kind: 'map', keys, values };
      }
      start = this.pos + indent;
      if (this.isDash(start)) refuse();
    }
  }

  /**
   * When a map key starts at `start` on the current line: the offset of its `:` (then `this.key` holds it), else -1.
   * Keys that are fine YAML but unusual in manifests (escapes, flow characters, merge keys) are refused.
   */
  private keyAt(start: number): number {
    const text = this.text;
    const first = text.charCodeAt(start);
    let colonAt: number;
    if (first === 34 || first === 39) {
      const end = quotedEnd(text, start);
      if (end === -1) return -1;
      const afterQuote = this.skipSpaces(end);
      if (text.charCodeAt(afterQuote) !== colon || !this.endsToken(afterQuote + 1)) return -1;
      const form = quotedForm(text, start, end);
      if (form === ScalarForm.opaque) refuse();
      this.key = scalarValue(text, { kind: 'scalar', start, end, form }) ?? '';
      colonAt = afterQuote;
    } else {
      if (reservedStart.has(first) || first === 91 || first === 123 || (first === dash && !this.isPlainDash(start))) return -1;
      colonAt = this.plainRun(start);
      if (colonAt === -1) return -1;
      const key = text.slice(start, colonAt).trimEnd();
      if (key.length > 1000 || key === '<<' || /[[\]{},"']/.test(key)) refuse();
      // A key the core schema reads as null, a boolean or a number (`~:`, `True:`, `0x10:`) is not the text it is
      // written as: the full parser says what it is.
      if (!isPlainString(key)) refuse();
      this.key = key;
    }
    return colonAt;
  }

  /**
   * Reads a plain run from `start` to the end of its line or a comment (`this.runEnd`); answers the offset of its
   * first `: ` or final `:` (a key's colon), or -1.
   */
  private plainRun(start: number): number {
    const text = this.text;
    let colonAt = -1;
    let index = start;
    for (; index < this.lineEnd; index += 1) {
      const character = text.charCodeAt(index);
      if (character === hash && text.charCodeAt(index - 1) === space) break;
      if (character === colon && colonAt === -1 && this.endsToken(index + 1)) colonAt = index;
    }
    this.runEnd = index;
    return colonAt;
  }

  private isPlainDash(start: number): boolean {
    const next = this.text.charCodeAt(start + 1);
    return next !== space && next !== newline && start + 1 < this.text.length;
  }

  /** True when `index` is a space, the line's end or the text's end: what must follow a key's colon. */
  private endsToken(index: number): boolean {
    return index >= this.lineEnd || this.text.charCodeAt(index) === space;
  }

  /** The value after a key's colon or a sequence dash at `after`, for a parent at `parentIndent`. */
  private value(after: number, parentIndent: number, inSequence: boolean): SimpleNode | null {
    const start = this.skipSpaces(after);
    if (start === this.lineEnd || this.text.charCodeAt(start) === hash) {
      this.seek(this.lineEnd + 1);
      if (this.indent > parentIndent) return this.block(this.indent, parentIndent);
      // `key:` followed by `- item` lines at the key's own column: a sequence without indentation.
      if (!inSequence && this.indent === parentIndent && this.isDash(this.pos + parentIndent)) return this.seq(parentIndent);
      return null;
    }
    // A map or a sequence can start on a sequence item's line: `- name: x`, `- - x`.
    if (inSequence && this.keyAt(start) !== -1) return this.map(start - this.pos, start);
    if (inSequence && this.isDash(start)) return this.seq(start - this.pos);
    return this.inline(start, parentIndent);
  }

  /** A scalar or flow collection starting at `start`, the rest of its line; then moves to the next content line. */
  private inline(start: number, parentIndent: number): SimpleNode {
    const text = this.text;
    const first = text.charCodeAt(start);
    let node: SimpleNode;
    let end: number;
    if (first === 124 || first === 62) return this.blockScalar(start, parentIndent);
    if (first === 34 || first === 39) {
      end = quotedEnd(text, start);
      if (end === -1) refuse();
      node = { kind: 'scalar', start, end, form: quotedForm(text, start, end) };
    } else if (first === 91 || first === 123) {
      if (parentIndent === -1) return this.wholeFlow(start);
      [node, end] = new FlowReader(text, false).node(start);
    } else {
      if (reservedStart.has(first) || (first === dash && !this.isPlainDash(start))) refuse();
      // `a: b: c` is an error in YAML; `- a: b` was read as a map before coming here.
      if (this.plainRun(start) !== -1) refuse();
      end = this.runEnd;
      while (text.charCodeAt(end - 1) === space) end -= 1;
      node = { kind: 'scalar', start, end, form: plainForm(text, start, end) };
      end = this.lineEnd;
    }
    const rest = this.skipSpaces(end);
    if (rest !== this.lineEnd && !(text.charCodeAt(rest) === hash && rest > end)) refuse();
    this.seek(this.lineEnd + 1);
    return node;
  }

  /** A `|` or `>` scalar: its lines are skipped, its value is opaque. */
  private blockScalar(start: number, parentIndent: number): SimpleScalar {
    const text = this.text;
    if (parentIndent < 0) refuse();
    let header = start + 1;
    if (text.charCodeAt(header) === 43 || text.charCodeAt(header) === dash) header += 1;
    const afterHeader = this.skipSpaces(header);
    if (afterHeader !== this.lineEnd && !(text.charCodeAt(afterHeader) === hash && afterHeader > header)) refuse();
    let line = this.lineEnd + 1;
    let contentIndent = -1;
    let leadingBlank = 0;
    while (line < text.length) {
      let end = text.indexOf('\n', line);
      if (end === -1) end = text.length;
      let column = line;
      while (column < end && text.charCodeAt(column) === space) column += 1;
      if (column === end) {
        if (contentIndent === -1) leadingBlank = Math.max(leadingBlank, column - line);
      } else if (contentIndent === -1) {
        if (column - line <= parentIndent) break;
        contentIndent = column - line;
        // More-indented leading blank lines need an explicit indentation indicator: an error in YAML.
        if (leadingBlank > contentIndent) refuse();
      } else if (column - line < contentIndent) break;
      line = end + 1;
    }
    this.seek(line);
    return { kind: 'scalar', start, end: start, form: ScalarForm.opaque };
  }

  /** A document that is one flow collection over any number of lines (a JSON file); nothing may follow it. */
  private wholeFlow(start: number): SimpleNode {
    const flow = new FlowReader(this.text, true);
    const [node, end] = flow.node(start);
    if (flow.skip(end) !== this.text.length) refuse();
    this.pos = this.text.length;
    this.indent = -1;
    return node;
  }
}

function hasSubtleCharacters(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 32 ? code !== newline : code === 0x7f || code === 0x85 || code === 0x2028 || code === 0x2029 || code === 0xfeff) return true;
  }
  return false;
}
