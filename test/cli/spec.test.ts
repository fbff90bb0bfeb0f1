import { describe, expect, it } from 'vitest';
import type { Command } from '../../src/cli/command.js';
import { commands } from '../../src/cli/commands/index.js';
import { type FlagSpec, type SpecCommand, defineCommand, flag, formatFlagTable, parseArgsOptions } from '../../src/cli/spec.js';
import { runCommand } from '../support/cli.js';

/**
 * Every command's `--help` is generated from its spec (ADR 0210). These checks read the generated text back the way
 * a user reads it — the flag table's rows, the synopsis, the examples — and hold it against the parseArgs options
 * the same spec produces, so a flag cannot be parsed without help or shown without being parsed.
 */

/** Every command the CLI runs, with the subcommands that have a `--help` of their own (mirror-config artifact-registry). */
async function allCommands(): Promise<SpecCommand[]> {
  const found: SpecCommand[] = [];
  const visit = async (command: Command): Promise<void> => {
    expect('flagSets' in command, `${command.name} is not defined by a spec (defineCommand)`).toBe(true);
    const spec = command as SpecCommand;
    found.push(spec);
    for (const load of Object.values(spec.delegates)) await visit(await load());
  };
  for (const entry of commands) await visit(await entry.load());
  return found;
}

interface TableRow {
  readonly short: string | undefined;
  readonly name: string;
  readonly value: string | undefined;
  readonly help: string;
  /** Where the help text starts on the line. */
  readonly column: number;
  /** Which table of the text (tables are separated by other lines). */
  readonly table: number;
}

/** The flag rows of a help text as a reader finds them: `  -o, --output FMT   text or json`. */
function flagRows(text: string): TableRow[] {
  const rows: TableRow[] = [];
  let table = 0;
  let inTable = false;
  for (const line of text.split('\n')) {
    const match = /^ {2}(?:-([a-zA-Z]), | {4})?--([a-z][a-z-]*)(?: (\S+))?( {2,})(\S.*)$/.exec(line);
    if (match) {
      if (!inTable) table += 1;
      inTable = true;
      const help = match[5] ?? '';
      rows.push({ short: match[1], name: match[2] ?? '', value: match[3], help, column: line.length - help.length, table });
    } else if (!/^ {6,}\S/.test(line) && !/^ {2,}[A-Z]+\.\.\. /.test(line)) {
      inTable = false; // a continuation line or an argument row keeps the table going
    }
  }
  return rows;
}

const commandList = await allCommands();

describe('command specs and their generated --help', () => {
  it('finds every command, and the subcommands with their own --help', () => {
    expect(commandList.map((command) => command.name).sort()).toEqual([...commands.map((entry) => entry.name), 'mirror-config artifact-registry'].sort());
  });

  describe.each(commandList.map((command) => [command.name, command] as const))('mirrorhook %s', (_name, command) => {
    const rows = flagRows(command.usage);

    it('shows every parsed option in its flag table, with its short form, value and help', () => {
      for (const set of command.flagSets) {
        const options = parseArgsOptions(set.flags);
        for (const [name, option] of Object.entries(options)) {
          const row = rows.find((candidate) => candidate.name === name);
          expect(row, `--${name} of ${set.name} has no row in --help`).toBeDefined();
          expect(row?.short, `--${name}: short form in --help`).toBe(option.short);
          const spec = set.flags.find((candidate) => candidate.name === name) as FlagSpec;
          expect(row?.value, `--${name}: value placeholder`).toBe(spec.value);
          expect(spec.help.trim(), `--${name} has no help text`).not.toBe('');
          expect(row?.help).toBe(spec.help.split('\n')[0]);
          // Continuation lines are in the text too, in the table's help column.
          const column = Math.min(...rows.filter((candidate) => candidate.table === row?.table).map((candidate) => candidate.column));
          for (const line of spec.help.split('\n').slice(1)) expect(command.usage).toContain(`\n${' '.repeat(column)}${line}\n`);
          // A value placeholder goes with a string flag, never a boolean one.
          if (option.type === 'boolean') expect(spec.value).toBeUndefined();
          else expect(spec.value, `--${name} takes a value but names none`).toBeDefined();
        }
      }
    });

    it('parses every flag its flag table, synopsis and own examples name', () => {
      const parsed = new Set(command.flagSets.flatMap((set) => set.flags.map((spec) => spec.name)));
      const usageLines = command.usage.slice(0, command.usage.indexOf('\n\n')).split('\n');
      const ownExamples = command.examples.filter((line) => line.startsWith(`mirrorhook ${command.name} `));
      const named = [
        ...rows.map((row) => row.name),
        ...[...`${usageLines.join('\n')}\n${ownExamples.join('\n')}`.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((match) => match[1] ?? ''),
      ];
      expect(named.filter((name) => !parsed.has(name))).toEqual([]);
      // The shorts a table shows are the parsed ones.
      for (const row of rows.filter((candidate) => candidate.short !== undefined)) {
        expect(command.flagSets.some((set) => set.flags.some((spec) => spec.name === row.name && spec.short === row.short))).toBe(true);
      }
    });

    it('gives no two flags the same short form or name', () => {
      for (const set of command.flagSets) {
        const shorts = set.flags.flatMap((spec) => (spec.short === undefined ? [] : [spec.short]));
        expect(shorts.filter((short, index) => shorts.indexOf(short) !== index), `${set.name}: shared short options`).toEqual([]);
        expect(() => parseArgsOptions(set.flags)).not.toThrow();
      }
    });

    it('lays each flag table out in aligned columns', () => {
      for (const table of new Set(rows.map((row) => row.table))) {
        const inTable = rows.filter((row) => row.table === table);
        // Labels over 30 characters start their help two spaces after them; all others share one column.
        const aligned = inTable.filter((row) => row.column - 4 <= 30);
        expect(new Set(aligned.map((row) => row.column)).size, `table ${table} of ${command.name}`).toBe(1);
      }
    });

    it('shows its examples under Example(s):, as pasted', () => {
      expect(command.examples.length).toBeGreaterThan(0);
      const section = command.usage.slice(command.usage.search(/^Examples?:$/m));
      for (const example of command.examples) expect(section).toContain(`\n  ${example}`);
    });

    it('answers --help with the generated text and exit 0, with no work done', async () => {
      const result = await runCommand([...command.name.split(' '), '--help']);
      expect(result).toEqual({ code: 0, stdout: `${command.usage}\n`, stderr: '' });
    });
  });
});

describe('defineCommand', () => {
  const echo = defineCommand({
    name: 'echo',
    summary: 'prints its flags',
    synopsis: ['mirrorhook echo [--loud] [-t TIMES] WORD...'],
    description: 'Prints the words.',
    arguments: [{ name: 'WORD...', help: 'what to print' }],
    flags: [
      flag({ name: 'loud', type: 'boolean', help: 'in capitals' }),
      flag({ name: 'times', short: 't', type: 'string', value: 'N', help: 'how often\n(default 1)' }),
      flag({ name: 'tag', type: 'string', multiple: true, value: 'T', help: 'a tag (repeatable)' }),
    ],
    examples: ['mirrorhook echo --loud hello'],
    async run({ values, positionals }, io) {
      io.stdout.write(`${JSON.stringify({ loud: values.loud, times: values.times, tag: values.tag, positionals })}\n`);
      return 0;
    },
  });
  const io = () => {
    let out = '';
    return {
      io: {
        stdout: { write: (chunk: string) => ((out += chunk), true) } as unknown as NodeJS.WritableStream,
        stderr: { write: () => true } as unknown as NodeJS.WritableStream,
        env: {},
        cwd: process.cwd(),
        stopSignal: new AbortController().signal,
      },
      out: () => out,
    };
  };

  it('parses the declared flags into typed values and hands the positionals on', async () => {
    const capture = io();
    expect(await echo.run(['-t', '3', '--tag', 'a', '--tag', 'b', '--loud', 'hi', 'there'], capture.io)).toBe(0);
    expect(JSON.parse(capture.out())).toEqual({ loud: true, times: '3', tag: ['a', 'b'], positionals: ['hi', 'there'] });
  });

  it('refuses an unknown flag as bad usage naming the command, before --help is looked at', async () => {
    await expect(echo.run(['--nope', '--help'], io().io)).rejects.toMatchObject({ code: 'MH_USAGE', message: expect.stringContaining('(see mirrorhook echo --help)') });
    await expect(echo.run(['--times'], io().io)).rejects.toMatchObject({ code: 'MH_USAGE' });
  });

  it('lays the table out with the argument rows first and the common flags last', () => {
    expect(echo.usage).toBe(`Usage: mirrorhook echo [--loud] [-t TIMES] WORD...

Prints the words.

      WORD...        what to print
      --loud         in capitals
  -t, --times N      how often
                     (default 1)
      --tag T        a tag (repeatable)
      --config FILE  configuration (default: mirrorhook.yaml if present, else the built-in default)
  -h, --help         print this help

Example:
  mirrorhook echo --loud hello`);
  });

  it('starts an over-long label’s help two spaces after it, keeping the column for the others', () => {
    const table = formatFlagTable([
      { label: '--short', help: 'a' },
      { label: `--${'x'.repeat(40)}`, help: 'b\nc' },
    ]);
    expect(table).toBe(`  --short  a\n  --${'x'.repeat(40)}  b\n           c`);
  });

  it('refuses a flag declared twice and a value placeholder on a boolean', () => {
    expect(() => parseArgsOptions([flag({ name: 'a', type: 'boolean', help: 'x' }), flag({ name: 'a', type: 'string', value: 'V', help: 'y' })])).toThrow('--a is declared twice');
    expect(() => flag({ name: 'b', type: 'boolean', value: 'V', help: 'x' })).toThrow('takes no value');
  });
});
