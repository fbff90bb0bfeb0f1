/**
 * Declarative commands (ADR 0210): each flag is declared once (name, short, type, value placeholder, help), and a
 * command's spec lists its flags; the parseArgs options, the `--help` text with its flag table, and `--help`
 * itself are generated from it, so the table and the parser cannot drift apart. This module stays light:
 * `mirrorhook X --help` loads it and the command's module, never the libraries a run needs (ADR 0160).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { MirrorhookError } from '../errors.js';
import type { Command, CommandIo } from './command.js';

/** One flag, as parsed and as `--help` shows it. */
export interface FlagSpec {
  /** The long name, without the dashes. */
  readonly name: string;
  /** One letter, without the dash. */
  readonly short?: string;
  readonly type: 'string' | 'boolean';
  /** Repeatable: the value is an array. */
  readonly multiple?: boolean;
  /** What the value is called in `--help` (FILE, N, FMT); string flags only. */
  readonly value?: string;
  /** The help text; each further line is a continuation, laid out under the first. */
  readonly help: string;
}

/** A positional argument with a row in the flag table (`PATH...`). */
export interface ArgumentSpec {
  readonly name: string;
  readonly help: string;
}

/** Declares a flag, keeping its literal name and type for the parsed values' type. */
export function flag<const Flag extends FlagSpec>(spec: Flag): Flag {
  if (spec.type === 'boolean' && spec.value !== undefined) throw new Error(`--${spec.name}: a boolean flag takes no value`);
  return spec;
}

/** The same flags with this command's wording of some of their help (a name not in the group is a bug). */
export function withHelp<const Flags extends readonly FlagSpec[]>(flags: Flags, help: Readonly<Partial<Record<Flags[number]['name'], string>>>): Flags {
  const texts: Readonly<Record<string, string | undefined>> = help;
  for (const name of Object.keys(texts)) {
    if (!flags.some((candidate) => candidate.name === name)) throw new Error(`withHelp: no flag --${name} in the group`);
  }
  return flags.map((candidate) => ({ ...candidate, help: texts[candidate.name] ?? candidate.help })) as unknown as Flags;
}

/** Every command takes these; a command that lists one itself places it (and may word it) there. */
export const configFlag = flag({
  name: 'config',
  type: 'string',
  value: 'FILE',
  help: 'configuration (default: mirrorhook.yaml if present, else the built-in default)',
});
export const helpFlag = flag({ name: 'help', short: 'h', type: 'boolean', help: 'print this help' });
export const commonFlags = [configFlag, helpFlag] as const;

type ValueOf<Flag extends FlagSpec> = Flag extends { readonly type: 'string' }
  ? Flag extends { readonly multiple: true } ? string[] : string
  : Flag extends { readonly multiple: true } ? boolean[] : boolean;

/** The parsed values of a list of flags: absent flags are undefined (defaults live in the command). */
export type FlagValues<Flags extends readonly FlagSpec[]> = {
  readonly [Flag in [...Flags, ...typeof commonFlags][number] as Flag['name']]?: ValueOf<Flag>;
};

export interface ParsedArgs<Flags extends readonly FlagSpec[]> {
  readonly values: FlagValues<Flags>;
  readonly positionals: string[];
}

/** A subcommand with flags of its own under one `--help` (certs generate, certs inject). */
export interface SubcommandSpec<Flags extends readonly FlagSpec[] = readonly FlagSpec[]> {
  readonly name: string;
  /** Its paragraph of the help, without the name (which heads it). */
  readonly description: string;
  readonly arguments?: readonly ArgumentSpec[];
  readonly flags: Flags;
  run(args: ParsedArgs<Flags>, io: CommandIo): Promise<number>;
}

interface SpecBase {
  readonly name: string;
  /** One line for `mirrorhook --help`. */
  readonly summary: string;
  /** The forms of the command line (`mirrorhook copy [options] SRC DST`), each may continue on further lines. */
  readonly synopsis: readonly string[];
  /** Prose between the synopsis and the flag table. */
  readonly description?: string;
  /** Prose after the flag table. */
  readonly notes?: string;
  /** Command lines for the Examples section, as they are pasted. */
  readonly examples: readonly string[];
  readonly handlesStop?: boolean;
}

/** A command with one set of flags. */
export interface CommandSpec<Flags extends readonly FlagSpec[]> extends SpecBase {
  /** Positional arguments that get a row in the flag table. */
  readonly arguments?: readonly ArgumentSpec[];
  /** The flags, in the order of the table; commonFlags not listed here follow them. */
  readonly flags: Flags;
  run(args: ParsedArgs<Flags>, io: CommandIo): Promise<number>;
  /**
   * Subcommands with a `--help` of their own, loaded only when named (mirror-config artifact-registry): the first
   * argument picks one before any flag is parsed.
   */
  readonly delegates?: Readonly<Record<string, () => Promise<Command>>>;
}

/** A command whose first argument picks a subcommand with flags of its own. */
export interface CommandWithSubcommandsSpec extends SpecBase {
  readonly subcommands: readonly SubcommandSpec[];
}

/** Declares a subcommand, inferring its flags' values. */
export function subcommand<const Flags extends readonly FlagSpec[]>(spec: SubcommandSpec<Flags>): SubcommandSpec {
  return spec as unknown as SubcommandSpec;
}

/** A command as the CLI runs it, its `usage` and parser generated from the spec. */
export interface SpecCommand extends Command {
  /** Every flag set the command parses (one, or one per subcommand), for the spec's own test. */
  readonly flagSets: readonly { readonly name: string; readonly flags: readonly FlagSpec[] }[];
  readonly examples: readonly string[];
  /** The subcommands with a `--help` of their own, by name. */
  readonly delegates: Readonly<Record<string, () => Promise<Command>>>;
}

export function defineCommand<const Flags extends readonly FlagSpec[]>(spec: CommandSpec<Flags> | CommandWithSubcommandsSpec): SpecCommand {
  if ('subcommands' in spec) return defineWithSubcommands(spec);
  const flags = withCommonFlags(spec.flags);
  // Built once, when the module loads: a flag declared twice fails every test that loads the command.
  const options = parseArgsOptions(flags);
  const usage = renderUsage(spec, [{ rows: tableRows(spec.arguments ?? [], flags) }]);
  return {
    name: spec.name,
    summary: spec.summary,
    usage,
    ...(spec.handlesStop === undefined ? {} : { handlesStop: spec.handlesStop }),
    flagSets: [{ name: spec.name, flags }],
    examples: spec.examples,
    delegates: spec.delegates ?? {},
    async run(argv, io) {
      const delegate = argv[0] === undefined ? undefined : spec.delegates?.[argv[0]];
      if (delegate !== undefined) return (await delegate()).run(argv.slice(1), io);
      const parsed = parseFlags(spec.name, argv, options);
      if (parsed.values.help === true) {
        io.stdout.write(`${usage}\n`);
        return 0;
      }
      return spec.run(parsed as unknown as ParsedArgs<Flags>, io);
    },
  };
}

function defineWithSubcommands(spec: CommandWithSubcommandsSpec): SpecCommand {
  const titleWidth = Math.max(...spec.subcommands.map((sub) => sub.name.length));
  const sections: Section[] = [
    ...spec.subcommands.map((sub) => ({ heading: sub.description, title: sub.name.padEnd(titleWidth), rows: tableRows(sub.arguments ?? [], sub.flags) })),
    { heading: 'Each subcommand also takes:', rows: tableRows([], commonFlags) },
  ];
  const usage = renderUsage(spec, sections);
  const names = spec.subcommands.map((sub) => sub.name);
  const options = new Map(spec.subcommands.map((sub) => [sub, parseArgsOptions(withCommonFlags(sub.flags))]));
  return {
    name: spec.name,
    summary: spec.summary,
    usage,
    ...(spec.handlesStop === undefined ? {} : { handlesStop: spec.handlesStop }),
    flagSets: spec.subcommands.map((sub) => ({ name: `${spec.name} ${sub.name}`, flags: withCommonFlags(sub.flags) })),
    examples: spec.examples,
    delegates: {},
    async run(argv, io) {
      const [name, ...rest] = argv;
      if (name === undefined || name === '--help' || name === '-h') {
        io.stdout.write(`${usage}\n`);
        return name === undefined ? 2 : 0;
      }
      const sub = spec.subcommands.find((candidate) => candidate.name === name);
      if (sub === undefined) throw new MirrorhookError('MH_USAGE', `unknown ${spec.name} subcommand "${name}": ${names.join(' or ')}`);
      const parsed = parseFlags(spec.name, rest, options.get(sub) ?? {});
      if (parsed.values.help === true) {
        io.stdout.write(`${usage}\n`);
        return 0;
      }
      return sub.run(parsed, io);
    },
  };
}

/** The flags with the common ones a command did not list itself appended. */
function withCommonFlags(flags: readonly FlagSpec[]): readonly FlagSpec[] {
  return [...flags, ...commonFlags.filter((common) => !flags.some((candidate) => candidate.name === common.name))];
}

/** The parseArgs options of a list of flags. */
export function parseArgsOptions(flags: readonly FlagSpec[]): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const spec of flags) {
    if (Object.hasOwn(options, spec.name)) throw new Error(`--${spec.name} is declared twice`);
    options[spec.name] = {
      type: spec.type,
      ...(spec.short === undefined ? {} : { short: spec.short }),
      ...(spec.multiple === true ? { multiple: true } : {}),
    };
  }
  return options;
}

/** parseArgs with mirrorhook's error: an unknown flag is bad usage (exit 2) naming the command's --help. */
function parseFlags(command: string, argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>): ParsedArgs<readonly FlagSpec[]> {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: values as FlagValues<readonly FlagSpec[]>, positionals };
  } catch (error) {
    throw new MirrorhookError('MH_USAGE', `${error instanceof Error ? error.message : String(error)} (see mirrorhook ${command} --help)`);
  }
}

interface Row {
  readonly label: string;
  readonly help: string;
}

interface Section {
  /** A paragraph above the table, its first line led by `title` (a subcommand's name). */
  readonly heading?: string;
  readonly title?: string;
  readonly rows: readonly Row[];
}

/** A flag as the table names it: `-o, --output FMT`, `    --dry-run` when others have a short form. */
function flagLabel(spec: FlagSpec, shortColumn: boolean): string {
  const long = `--${spec.name}${spec.value === undefined ? '' : ` ${spec.value}`}`;
  if (spec.short !== undefined) return `-${spec.short}, ${long}`;
  return shortColumn ? `    ${long}` : long;
}

function tableRows(args: readonly ArgumentSpec[], flags: readonly FlagSpec[]): Row[] {
  const shortColumn = flags.some((spec) => spec.short !== undefined);
  return [...args.map((arg) => ({ label: shortColumn ? `    ${arg.name}` : arg.name, help: arg.help })), ...flags.map((spec) => ({ label: flagLabel(spec, shortColumn), help: spec.help }))];
}

/** Labels longer than this start their help two spaces after them instead of pushing the whole column right. */
const widestAlignedLabel = 30;

/** Two-column layout: labels indented by two, help in one column, continuation lines under the first. */
export function formatFlagTable(rows: readonly Row[]): string {
  const width = Math.max(0, ...rows.map((row) => row.label.length).filter((length) => length <= widestAlignedLabel));
  const indent = ' '.repeat(width + 4);
  return rows
    .map((row) => {
      const [first = '', ...more] = row.help.split('\n');
      const label = row.label.length <= width ? row.label.padEnd(width) : row.label;
      return [`  ${label}  ${first}`.trimEnd(), ...more.map((line) => `${indent}${line}`)].join('\n');
    })
    .join('\n');
}

/** A paragraph led by a name, its other lines indented under the text (`generate  writes ...`). */
function titled(title: string, text: string): string {
  const lead = `${title}  `;
  return text
    .split('\n')
    .map((line, index) => (index === 0 ? lead : ' '.repeat(lead.length)) + line)
    .join('\n');
}

function renderUsage(spec: SpecBase, sections: readonly Section[]): string {
  // A form's continuation lines ('\n' in it) are indented under its flags.
  const form = (text: string, indent: string): string => text.split('\n').map((line, index) => (index === 0 ? `${indent}${line}` : `${' '.repeat(16)}${line}`)).join('\n');
  // One synopsis line per subcommand reads as a list; a command's own forms align under the first.
  const usage =
    'subcommands' in spec
      ? `Usage:\n${spec.synopsis.map((text) => form(text, '  ')).join('\n')}`
      : `Usage: ${spec.synopsis.map((text, index) => form(text, index === 0 ? '' : '       ')).join('\n')}`;
  const parts = [usage];
  if (spec.description !== undefined) parts.push(spec.description);
  for (const section of sections) {
    if (section.heading !== undefined) parts.push(section.title === undefined ? section.heading : titled(section.title, section.heading));
    if (section.rows.length > 0) parts.push(formatFlagTable(section.rows));
  }
  if (spec.notes !== undefined) parts.push(spec.notes);
  parts.push(`${spec.examples.length === 1 ? 'Example' : 'Examples'}:\n${spec.examples.map((line) => `  ${line}`).join('\n')}`);
  return parts.join('\n\n');
}
