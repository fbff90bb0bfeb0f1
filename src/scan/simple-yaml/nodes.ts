/** The nodes the simple YAML reader builds (see index.ts), and the scalar rules its block and flow parts share. */

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
export class Refused extends Error {}

export function refuse(): never {
  throw new Refused('outside the simple YAML subset');
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
export const notStringPattern =
  /^(?:~|[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)?$/;

export const space = 32;
export const newline = 10;
export const hash = 35;
export const dash = 45;
export const colon = 58;
/** Characters a plain scalar or a plain key may not start with (the quotes and flow openers are read apart). */
export const reservedStart = new Set([...'&*!?%@`|>#,]}:'].map((character) => character.charCodeAt(0)));
/** The escapes of a double-quoted scalar that `yaml` reads without an error (`\\U` is left out: it can overflow). */
export const validEscape = /\\(?:[0abefnrtvN_LP "/\\]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})/g;
/** The key of a map entry whose key is a collection: no text holds a NUL (`readSimple` refuses it), no lookup matches. */
export const collectionKey = '\u0000';
export const flowEnd = new Set([...',[]{}'].map((character) => character.charCodeAt(0)));

/** The offset after the closing quote of a quoted scalar at `start`, on its line; -1 when it does not close there. */
export function quotedEnd(text: string, start: number): number {
  const quote = text.charCodeAt(start);
  for (let index = start + 1; index < text.length; index += 1) {
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

export function quotedForm(text: string, start: number, end: number): ScalarForm {
const inner = text.slice(start + 1, end - 1);
if (text.charCodeAt(start) === 34) {
    if (!inner.includes('\\')) return ScalarForm.double;
    // An escape `yaml` does not know is an error there.
    if (inner.replace(validEscape, '').includes('\\')) refuse();
    return ScalarForm.opaque;
  }
  return inner.includes("''") ? ScalarForm.singleEscaped : ScalarForm.single;
}

/** Only these can start a plain scalar the core schema does not read as a string. */
const notStringStart = new Set([...'~nNtTfF0123456789+-.'].map((character) => character.charCodeAt(0)));

export function plainForm(text: string, start: number, end: number): ScalarForm {
  if (start < end && !notStringStart.has(text.charCodeAt(start))) return ScalarForm.plain;
  return notStringPattern.test(text.slice(start, end)) ? ScalarForm.notString : ScalarForm.plain;
}

/** True when the core schema reads this plain text as a string (not null, a boolean or a number). */
export function isPlainString(value: string): boolean {
  return !notStringPattern.test(value);
}
