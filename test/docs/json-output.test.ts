import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';

/**
 * docs/json-output.md is the one place `--output json` is described (issue 13, item 10: `copy -o json` printed a
 * `rejected` event no list named). Everything checked here is read from the source, so a new event or a new
 * command printing JSON fails this test until it is documented.
 */
const root = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const doc = read('docs/json-output.md');
const commandFiles = readdirSync(join(root, 'src/cli/commands')).filter((name) => name.endsWith('.ts'));

/** The command a file of src/cli/commands belongs to: the longest command name its file name starts with. */
function commandOf(file: string): string {
  const base = file.replace(/\.ts$/, '');
  const owner = commands.map((command) => command.name).filter((name) => base === name || base.startsWith(`${name}-`)).sort((a, b) => b.length - a.length)[0];
  if (owner === undefined) throw new Error(`src/cli/commands/${file} belongs to no command`);
  return owner;
}

/** The variants of a union type written `| { readonly type: 'x'; readonly a: …; … }`, with their field names. */
function unionVariants(source: string, typeName: string): Map<string, string[]> {
  const start = source.indexOf(`export type ${typeName} =`);
  if (start < 0) throw new Error(`type ${typeName} not found`);
  const body = source.slice(start, source.indexOf(';\n\n', start) + 1);
  const variants = new Map<string, string[]>();
  for (const match of body.matchAll(/\{\s*readonly type: '([\w-]+)';([^}]*)\}/g)) {
    variants.set(match[1] ?? '', [...(match[2] ?? '').matchAll(/readonly (\w+)\??:/g)].map((field) => field[1] ?? ''));
  }
  return variants;
}

/** Every event a command can print: literal `{ type: '…' }` objects, plus the copy engine's events it forwards. */
function emittedEvents(): Map<string, Map<string, string[]>> {
  const byCommand = new Map<string, Map<string, string[]>>();
  const add = (command: string, type: string, fields: string[]) => {
    const events = byCommand.get(command) ?? new Map<string, string[]>();
    events.set(type, fields);
    byCommand.set(command, events);
  };
  for (const file of commandFiles) {
    const source = read(`src/cli/commands/${file}`);
    for (const match of source.matchAll(/writeJsonLine\([^,]+,\s*\{\s*type:\s*'([\w-]+)'/g)) add(commandOf(file), match[1] ?? '', []);
    if (/writeJsonLine\(io\.stdout, event\)/.test(source)) {
      // The reporter forwards CopyEvents, all but those it filters out (byte-level progress).
      const filtered = new Set([...source.matchAll(/event\.type !== '([\w-]+)'\) writeJsonLine/g)].map((match) => match[1]));
      for (const [type, fields] of unionVariants(read('src/copy/events.ts'), 'CopyEvent')) if (!filtered.has(type)) add(commandOf(file), type, fields);
    }
  }
  return byCommand;
}

function section(command: string): string {
  const heading = `## \`mirrorhook ${command}\``;
  const start = doc.indexOf(`${heading}\n`);
  if (start < 0) return '';
  const end = doc.indexOf('\n## ', start + heading.length);
  return doc.slice(start, end < 0 ? undefined : end);
}

const events = emittedEvents();

describe('docs/json-output.md', () => {
  it('finds the events in the source (copy forwards the engine events and adds rejected and summary)', () => {
    const copy = [...(events.get('copy')?.keys() ?? [])];
    expect(copy).toEqual(expect.arrayContaining(['start', 'done', 'failed', 'rejected', 'summary']));
    expect(copy).not.toContain('progress');
    expect(events.get('copy')?.get('done')).toEqual(['image', 'target', 'status', 'digest', 'bytes']);
  });

  it('has a section for every command that prints JSON lines', () => {
    const printing = new Set(commandFiles.filter((file) => read(`src/cli/commands/${file}`).includes('writeJsonLine(')).map(commandOf));
    expect([...printing].filter((command) => section(command) === '')).toEqual([]);
  });

  it.each([...events].flatMap(([command, types]) => [...types].map(([type, fields]) => [command, type, fields] as const)))(
    'documents %s event %s with its fields',
    (command, type, fields) => {
      const row = section(command).split('\n').find((line) => line.startsWith(`| \`${type}\` |`));
      expect(row, `no row for ${type} in the ${command} section`).toBeDefined();
      expect(fields.filter((field) => !row?.includes(`\`${field}\``))).toEqual([]);
    },
  );

  it('documents no event the code cannot print', () => {
    for (const [command, types] of events) {
      const documented = [...section(command).matchAll(/^\| `([\w-]+)` \|/gm)].map((match) => match[1]);
      expect(documented.filter((type) => type !== undefined && !types.has(type))).toEqual([]);
    }
  });
});
