import { isTemplated } from '../template.js';
import { type Edit, type ExtractResult, type Finding, ScanSkipReason } from '../types.js';

/**
 * Finds the images a Dockerfile pulls: `FROM` (past `--platform`), `COPY --from=<image>` and
 * `RUN --mount=…,from=<image>`, but not build stages (`FROM build`, `COPY --from=0`) and not `scratch`. Build
 * arguments are substituted from their `ARG` defaults (global ones for `FROM`, as BuildKit does). Line
 * continuations, comments, the `# escape=` directive and heredoc bodies are understood, so a `FROM` inside a heredoc
 * or a comment is not an image.
 */
export function extractDockerfile(text: string): ExtractResult {
  const findings: Finding[] = [];
  const globalArgs = new Map<string, ArgValue>();
  let stageArgs = new Map<string, ArgValue>();
  const stages = new Set<string>();
  let seenFrom = false;
  let stageIndex = -1;
  let stageName: string | undefined;

  for (const line of logicalLines(text)) {
    const tokens = tokenize(line.text);
    const instruction = tokens[0]?.text.toUpperCase();
    const args = tokens.slice(1);
    if (instruction === 'ARG') {
      for (const token of args) {
        const declared = parseArg(token, line);
        if (declared === undefined) continue;
        if (!seenFrom) globalArgs.set(declared.name, declared.value);
        else stageArgs.set(declared.name, declared.value.value === undefined ? (globalArgs.get(declared.name) ?? declared.value) : declared.value);
      }
    } else if (instruction === 'FROM') {
      seenFrom = true;
      stageIndex += 1;
      stageArgs = new Map();
      const positional = args.filter((token) => !token.text.startsWith('--'));
      const image = positional[0];
      const asWord = positional[1];
      stageName = asWord !== undefined && asWord.text.toLowerCase() === 'as' ? positional[2]?.text : undefined;
      if (image !== undefined) {
        const finding = imageFinding(image, line, globalArgs, stages, 'FROM', stageName ?? String(stageIndex));
        if (finding !== undefined) findings.push(finding);
      }
      stages.add(String(stageIndex));
      if (stageName !== undefined) stages.add(stageName.toLowerCase());
    } else if (instruction === 'COPY' || instruction === 'RUN') {
      const scope = new Map([...globalArgs, ...stageArgs]);
      for (const token of args) {
        if (!token.text.startsWith('--')) break;
        const source = instruction === 'COPY' ? copyFrom(token) : mountFrom(token);
        if (source === undefined) continue;
        const kind = instruction === 'COPY' ? 'COPY --from' : 'RUN --mount';
        const finding = imageFinding(source, line, scope, stages, kind, stageName ?? String(stageIndex));
        if (finding !== undefined) findings.push(finding);
      }
    }
  }
  return { findings, problems: [] };
}

interface LogicalLine {
  readonly text: string;
  /** File offset of each character of `text`. */
  readonly origin: readonly number[];
}

interface Token {
  readonly text: string;
  /** Index into the logical line. */
  readonly start: number;
}

interface ArgValue {
  readonly value: string | undefined;
  /** File offsets of the default value's characters, when it is one unbroken literal. */
  readonly span: { readonly start: number; readonly end: number } | undefined;
}

/** Joins continued lines (keeping each character's file offset) and drops comments and heredoc bodies. */
function* logicalLines(text: string): Generator<LogicalLine> {
  let escape = '\\';
  let directives = true;
  let chars = '';
  let origin: number[] = [];
  let continuing = false;
  const heredocs: { delimiter: string; strip: boolean }[] = [];
  let offset = 0;
  while (offset <= text.length) {
    let end = text.indexOf('\n', offset);
    if (end === -1) end = text.length;
    let lineEnd = end;
    if (lineEnd > offset && text[lineEnd - 1] === '\r') lineEnd -= 1;
    const raw = text.slice(offset, lineEnd);
    const lineStart = offset;
    offset = end + 1;

    const pending = heredocs[0];
    if (pending !== undefined) {
      if ((pending.strip ? raw.replace(/^\t+/, '') : raw) === pending.delimiter) heredocs.shift();
      continue;
    }
    const trimmed = raw.trim();
    if (!continuing) {
      if (trimmed === '') continue;
      if (trimmed.startsWith('#')) {
        const directive = directives ? /^#\s*escape\s*=\s*(\S)/i.exec(trimmed) : null;
        if (directive?.[1] !== undefined) escape = directive[1];
        else if (directives && !/^#\s*[a-z]+\s*=/i.test(trimmed)) directives = false;
        continue;
      }
      directives = false;
    } else if (trimmed === '' || trimmed.startsWith('#')) {
      continue;
    }
    const withoutTrailing = raw.replace(/\s+$/, '');
    const continues = withoutTrailing.endsWith(escape);
    const content = continues ? withoutTrailing.slice(0, -1) : raw;
    for (let index = 0; index < content.length; index += 1) {
      chars += content[index];
      origin.push(lineStart + index);
    }
    if (continues && offset <= text.length) {
      continuing = true;
      chars += ' ';
      origin.push(lineStart + content.length);
      continue;
    }
    continuing = false;
    const line = { text: chars, origin };
    for (const match of chars.matchAll(/<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)) {
      heredocs.push({ strip: match[1] === '-', delimiter: match[3] ?? '' });
    }
    chars = '';
    origin = [];
    yield line;
  }
}

function tokenize(text: string): Token[] {
  return [...text.matchAll(/\S+/g)].map((match) => ({ text: match[0], start: match.index }));
}

function sub(token: Token, from: number, to: number): Token {
  return { text: token.text.slice(from, to), start: token.start + from };
}

function fileSpan(token: Token, line: LogicalLine): { start: number; end: number } | undefined {
  const start = line.origin[token.start];
  const last = line.origin[token.start + token.text.length - 1];
  if (start === undefined || last === undefined) return undefined;
  // A token continued over a line break has no single span in the file.
  return last - start === token.text.length - 1 ? { start, end: last + 1 } : undefined;
}

function parseArg(token: Token, line: LogicalLine): { name: string; value: ArgValue } | undefined {
  const equals = token.text.indexOf('=');
  const name = equals === -1 ? token.text : token.text.slice(0, equals);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return undefined;
  if (equals === -1) return { name, value: { value: undefined, span: undefined } };
  let value = sub(token, equals + 1, token.text.length);
  const quote = value.text[0];
  if ((quote === '"' || quote === "'") && value.text.length >= 2 && value.text.endsWith(quote)) {
    value = sub(value, 1, value.text.length - 1);
  }
  return { name, value: { value: value.text, span: value.text.includes('$') ? undefined : fileSpan(value, line) } };
}

function copyFrom(token: Token): Token | undefined {
  const match = /^--from=/i.exec(token.text);
  return match === null ? undefined : sub(token, match[0].length, token.text.length);
}

function mountFrom(token: Token): Token | undefined {
  if (!/^--mount=/i.test(token.text)) return undefined;
  let index = '--mount='.length;
  for (const option of token.text.slice(index).split(',')) {
    if (option.toLowerCase().startsWith('from=')) return sub(token, index + 5, index + option.length);
    index += option.length + 1;
  }
  return undefined;
}

const variablePattern = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Dockerfile variable substitution: `$X`, `${X}`, `${X:-word}`, `${X:+word}`; undefined when a value is unknown. */
function substitute(text: string, scope: ReadonlyMap<string, ArgValue>): string | undefined {
  let unknown = false;
  const result = text.replace(variablePattern, (_match, braced: string | undefined, operator: string | undefined, word: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = scope.get(name)?.value;
    const set = operator?.startsWith(':') ? value !== undefined && value !== '' : value !== undefined;
    if (operator?.endsWith('-')) return set ? (value ?? '') : (word ?? '');
    if (operator?.endsWith('+')) return set ? (word ?? '') : '';
    if (value === undefined) unknown = true;
    return value ?? '';
  });
  return unknown || result.includes('$') ? undefined : result;
}

function imageFinding(
  token: Token,
  line: LogicalLine,
  scope: ReadonlyMap<string, ArgValue>,
  stages: ReadonlySet<string>,
  kind: string,
  name: string,
): Finding | undefined {
  const written = token.text;
  const resolved = written.includes('$') ? substitute(written, scope) : written;
  if (resolved !== undefined && (stages.has(resolved.toLowerCase()) || resolved.toLowerCase() === 'scratch')) return undefined;
  if (resolved === undefined && /^\d+$/.test(written)) return undefined;
  const span = fileSpan(token, line);
  const base = { image: written, kind, name, reference: resolved };
  if (resolved === undefined || isTemplated(resolved)) {
    const at = span ?? { start: line.origin[token.start] ?? 0, end: line.origin[token.start] ?? 0 };
    return { ...base, ...at, reference: undefined, skipReason: ScanSkipReason.templated, edit: { kind: 'none', reason: 'a build argument without a default' } };
  }
  if (span === undefined) {
    const start = line.origin[token.start] ?? 0;
    return { ...base, start, end: start, edit: { kind: 'none', reason: 'the reference is split over a line continuation' } };
  }
  if (!written.includes('$')) return { ...base, ...span, edit: { kind: 'reference' } };

  // A reference that is one build argument: the ARG's default is what changes.
  const whole = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$/.exec(written);
  const argName = whole?.[1] ?? whole?.[2];
  const argSpan = argName === undefined ? undefined : scope.get(argName)?.span;
  if (argSpan !== undefined) return { ...base, ...argSpan, image: resolved, edit: { kind: 'reference' } };

  // Build arguments only in the tag or digest: the repository part before them changes.
  const dollar = written.indexOf('$');
  const prefix = written.slice(0, dollar);
  const tagColon = prefix.indexOf(':', prefix.lastIndexOf('/') + 1);
  const nameEnd = prefix.includes('@') ? prefix.indexOf('@') : tagColon;
  const edit: Edit =
    nameEnd > 0 ? { kind: 'repository' } : { kind: 'none', reason: 'a build argument in the repository name; change the ARG default' };
  return nameEnd > 0 ? { ...base, start: span.start, end: span.start + nameEnd, edit } : { ...base, ...span, edit };
}
