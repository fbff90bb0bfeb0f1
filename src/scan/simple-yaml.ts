/**
 * A reader for the plain subset of YAML that manifests are almost always written in: block maps and sequences,
 * scalars on one line, flow collections on one line, block scalars (skipped), comments, several documents, and a
 * whole-file flow collection (JSON). It is several times faster than composing `yaml` Documents, and it refuses
 * (answers undefined) everything else and everything the `yaml` package could read differently or call an error:
 * anchors, aliases, tags, merge keys, directives, scalars over several lines, tabs, CR line ends, unexpected
 * indentation. The caller then reads the file with the `yaml` package, so a refusal costs time, never a result
 * (ADR 0190).
 */

export type SimpleNode = SimpleMap | SimpleSeq | SimpleScalar;

/** A map; keys as written (first one wins, as `yaml` reads duplicates with `uniqueKeys: false`). */
export interface SimpleMap {
  readonly kind: 'map';
  readonly keys: string[];
  readonly values: (SimpleNode | null)[];
}

export interface SimpleSeq {
  readonly kind: 'seq';
  readonly items: (SimpleNode | null)[];
}

/** How a scalar is written, which decides its value; `opaque` values (block scalars, escapes) are never computed. */
export const ScalarForm = { plain: 0, notString: 1, double: 2, single: 3, singleEscaped: 4, opaque: 5 } as const;
export type ScalarForm = (typeof ScalarForm)[keyof typeof ScalarForm];

/** A scalar: [start, end) are the offsets `yaml` gives as its range (quotes included). */
export interface SimpleScalar {
  readonly kind: 'scalar';
  readonly start: number;
  readonly end: number;
  readonly form: ScalarForm;
}

/** Thrown inside a reading when the text leaves the subset; `readSimple` turns it into undefined. */
class Refused extends Error {}

function refuse(): never {
  throw new Refused('outside the simple YAML subset');
}

/**
 * Runs `read` over the documents of `text` (each one's root node, null when empty), or answers undefined when the
 * text is outside the subset, or when `read` asks for a value the subset does not compute (`scalarValue`).
 */
export function readSimple<T>(text: string, read: (documents: readonly (SimpleNode | null)[]) => T): T | undefined {
  // Tabs, CR, control characters, a byte-order mark and Unicode line breaks are where YAML's rules get subtle.
  if (/[\x00-\x09\x0b-\x1f\x7f\x85\u2028\u2029\ufeff]/.test(text)) return undefined;
  try {
    return read(new Reader(text).documents());
  } catch (error) {
    if (error instanceof Refused) return undefined;
    throw error;
  }
}

/** The string value of a scalar, or undefined when it is not a string (null, a number, a boolean). */
export function scalarValue(text: string, scalar: SimpleScalar): string | undefined {
  switch (scalar.form) {
    case ScalarForm.plain:
      return text.slice(scalar.start, scalar.end);
    case ScalarForm.double:
    case ScalarForm.single:
      return text.slice(scalar.start + 1, scalar.end - 1);
    case ScalarForm.singleEscaped:
      return text.slice(scalar.start + 1, scalar.end - 1).replaceAll("''", "'");
    case ScalarForm.notString:
      return undefined;
    default:
      return refuse();
  }
}

/** The value under `key`: the first entry with that key. */
export function simpleGet(map: SimpleMap, key: string): SimpleNode | null | undefined {
  const index = map.keys.indexOf(key);
  return index === -1 ? undefined : map.values[index];
}

/** What the core schema of YAML 1.2 (the `yaml` default) reads as null, a boolean or a number, not as a string. */
const notStringPattern =
  /^(?:~|[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)?$/;

const space = 32;
const newline = 10;
const hash = 35;
const dash = 45;
const colon = 58;
/** Characters a plain scalar or a plain key may not start with (the quotes and flow openers are read apart). */
const reservedStart = new Set([...'&*!?%@`|>#,]}:'].map((character) => character.charCodeAt(0)));
/** The escapes of a double-quoted scalar that `yaml` reads without an error (`\\U` is left out: it can overflow). */
const validEscape = /\\(?:[0abefnrtvN_LP "/\\]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})/g;
/** The key of a map entry whose key is a collection: no text holds a NUL (`readSimple` refuses it), no lookup matches. */
const collectionKey = '\u0000';
const flowEnd = new Set([...',[]{}'].map((character) => character.charCodeAt(0)));

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
      const end = this.quotedEnd(start);
      if (end === -1) return -1;
      const afterQuote = this.skipSpaces(end);
      if (text.charCodeAt(afterQuote) !== colon || !this.endsToken(afterQuote + 1)) return -1;
      const form = this.quotedForm(start, end);
      if (form === ScalarForm.opaque) refuse();
      this.key = scalarValue(text, { kind: 'scalar', start, end, form }) ?? '';
      colonAt = afterQuote;
    } else {
      if (reservedStart.has(first) || first === 91 || first === 123 || (first === dash && !this.isPlainDash(start))) return -1;
      colonAt = this.plainRun(start);
      if (colonAt === -1) return -1;
      const key = text.slice(start, colonAt).trimEnd();
      if (key.length > 1000 || key === '<<' || /[[\]{},"']/.test(key)) refuse();
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
      end = this.quotedEnd(start);
      if (end === -1) refuse();
      node = { kind: 'scalar', start, end, form: this.quotedForm(start, end) };
    } else if (first === 91 || first === 123) {
      if (parentIndent === -1) return this.wholeFlow(start);
      [node, end] = this.flowNode(start, false);
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

  /** The offset after the closing quote of a quoted scalar at `start`, on its line; -1 when it does not close there. */
  private quotedEnd(start: number): number {
    const text = this.text;
    const quote = text.charCodeAt(start);
    for (let index = start + 1; index < this.lineEnd; index += 1) {
      const character = text.charCodeAt(index);
      if (character === newline) return -1;
      if (quote === 34 && character === 92) index += 1;
      else if (character === quote) {
        if (quote === 39 && text.charCodeAt(index + 1) === 39) index += 1;
        else return index + 1;
      }
    }
    return -1;
  }

  private quotedForm(start: number, end: number): ScalarForm {
    const inner = this.text.slice(start + 1, end - 1);
    if (this.text.charCodeAt(start) === 34) {
      if (!inner.includes('\\')) return ScalarForm.double;
      // An escape `yaml` does not know is an error there.
      if (inner.replace(validEscape, '').includes('\\')) refuse();
      return ScalarForm.opaque;
    }
    return inner.includes("''") ? ScalarForm.singleEscaped : ScalarForm.single;
  }

  /** A document that is one flow collection over any number of lines (a JSON file); nothing may follow it. */
  private wholeFlow(start: number): SimpleNode {
    this.lineEnd = this.text.length;
    const [node, end] = this.flowNode(start, true);
    if (this.skipFlow(end, true) !== this.text.length) refuse();
    this.pos = this.text.length;
    this.indent = -1;
    return node;
  }

  /** Skips spaces and comments, and line breaks when `lines`; refuses a document marker inside a collection. */
  private skipFlow(from: number, lines: boolean): number {
    const text = this.text;
    let index = from;
    for (;;) {
      const character = text.charCodeAt(index);
      if (character === space) index += 1;
      else if (character === newline && lines) {
        index += 1;
        if (text.startsWith('---', index) || text.startsWith('...', index)) refuse();
      } else if (character === hash && lines && (index === 0 || text.charCodeAt(index - 1) === space || text.charCodeAt(index - 1) === newline)) {
        const end = text.indexOf('\n', index);
        index = end === -1 ? text.length : end;
      } else return index;
    }
  }

  private flowNode(start: number, lines: boolean): [SimpleNode, number] {
    const text = this.text;
    const first = text.charCodeAt(start);
    if (first === 123 || first === 91) return this.flowCollection(start, lines);
    if (first === 34 || first === 39) {
      const end = this.quotedEnd(start);
      if (end === -1) refuse();
      return [{ kind: 'scalar', start, end, form: this.quotedForm(start, end) }, end];
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
  private flowCollection(start: number, lines: boolean): [SimpleNode, number] {
    const text = this.text;
    const isMap = text.charCodeAt(start) === 123;
    const close = isMap ? 125 : 93;
    const keys: string[] = [];
    const values: (SimpleNode | null)[] = [];
    let index = this.skipFlow(start + 1, lines);
    while (text.charCodeAt(index) !== close) {
      if (isMap) {
        const [key, afterKey] = this.flowNode(index, lines);
        index = this.skipSpacesOnly(afterKey);
        const character = text.charCodeAt(index);
        // An entry without a value (`{a, b}`), and a Go template read as YAML: `{{ include "x" . }}` is a map whose
        // key is a map; no lookup matches such a key.
        if (character === 44 || character === close) {
          keys.push(key.kind === 'scalar' ? this.flowKey(key) : collectionKey);
          values.push(null);
          index = this.afterEntry(index, close, lines);
          continue;
        }
        if (key.kind !== 'scalar' || character !== colon) refuse();
        const name = this.flowKey(key);
        const next = text.charCodeAt(index + 1);
        if (key.form === ScalarForm.plain && next !== space && next !== newline) refuse();
        index = this.skipFlow(index + 1, lines);
        keys.push(name);
        const valueStart = text.charCodeAt(index);
        if (valueStart === 44 || valueStart === close) values.push(null);
        else {
          const [value, afterValue] = this.flowNode(index, lines);
          values.push(value);
          index = this.skipFlow(afterValue, lines);
        }
      } else {
        const [item, afterItem] = this.flowNode(index, lines);
        values.push(item);
        index = this.skipFlow(afterItem, lines);
        if (text.charCodeAt(index) === colon) refuse();
      }
      index = this.afterEntry(index, close, lines);
    }
    const node: SimpleNode = isMap ? { kind: 'map', keys, values } : { kind: 'seq', items: values };
    return [node, index + 1];
  }

  /** After an entry of a flow collection: past its comma, or at its closing bracket. */
  private afterEntry(index: number, close: number, lines: boolean): number {
    const character = this.text.charCodeAt(index);
    if (character === 44) return this.skipFlow(index + 1, lines);
    if (character !== close) refuse();
    return index;
  }

  /** A flow map's scalar key as lookups see it; a merge key, or a plain key with a colon, is refused. */
  private flowKey(key: SimpleScalar): string {
    if (key.form === ScalarForm.opaque) refuse();
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

/** Only these can start a plain scalar the core schema does not read as a string. */
const notStringStart = new Set([...'~nNtTfF0123456789+-.'].map((character) => character.charCodeAt(0)));

function plainForm(text: string, start: number, end: number): ScalarForm {
  if (start < end && !notStringStart.has(text.charCodeAt(start))) return ScalarForm.plain;
  return notStringPattern.test(text.slice(start, end)) ? ScalarForm.notString : ScalarForm.plain;
}
