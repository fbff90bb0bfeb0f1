import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../support/cli.js';

/** One command example a user can read: in README.md, a docs page, or a command's `--help`. */
export interface Example {
  /** Where it is: `docs/commands/scan.md:42` or `--help of mirrorhook copy`. */
  readonly where: string;
  /** The argv after `mirrorhook`, as one line. */
  readonly command: string;
  /** Output lines shown under a `$ mirrorhook …` line of a ```console block; undefined when none is shown. */
  readonly output: string[] | undefined;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/**
 * Examples in markdown: each `$ mirrorhook …` line of a ```console block (with the lines up to the next `$` line as
 * its shown output), and each line starting `mirrorhook ` in a ```sh block (no output shown).
 */
export function markdownExamples(files: readonly string[] = ['README.md', ...markdownFiles('docs')]): Example[] {
  const examples: Example[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    let fence: string | undefined;
    let current: { where: string; command: string; output: string[] } | undefined;
    const flush = () => {
      if (current) examples.push({ where: current.where, command: current.command, output: fence === 'console' ? current.output : undefined });
      current = undefined;
    };
    lines.forEach((line, index) => {
      const open = /^```(\w*)/.exec(line);
      if (open) {
        flush();
        fence = fence === undefined ? (open[1] ?? '') : undefined;
        return;
      }
      if (fence === undefined) return;
      const command = fence === 'console' ? /^\$ mirrorhook (.*)$/.exec(line) : /^mirrorhook (.*?)(\s+#.*)?$/.exec(line);
      if (command) {
        flush();
        current = { where: `${file}:${index + 1}`, command: (command[1] ?? '').trim(), output: [] };
      } else if (fence === 'console' && line.startsWith('$ ')) {
        flush();
      } else if (current && fence === 'console') {
        current.output.push(line);
      } else if (fence !== 'console') {
        flush();
      }
    });
    flush();
  }
  return examples;
}

/**
 * Every command with its own `--help`: each top-level command of src/cli/commands/index.ts, and each subcommand its
 * help names (`mirrorhook mirror-config crio`) whose help differs from its parent's (or the only one it names). New commands are found here
 * without editing this list.
 */
export async function helpCommands(): Promise<string[][]> {
  const { commands } = await import('../../src/cli/commands/index.js');
  const found: string[][] = [];
  for (const entry of commands) {
    const parent = await helpText([entry.name]);
    const subs = new Set([...parent.matchAll(new RegExp(`mirrorhook ${entry.name} ([a-z][a-z-]+)`, 'g'))].map((match) => match[1] ?? ''));
    const own: string[][] = [];
    for (const sub of subs) if ((await helpText([entry.name, sub])) !== parent) own.push([entry.name, sub]);
    // A command whose usage names one subcommand (`Usage: mirrorhook policy binauthz …`) is documented under it.
    const usage = new RegExp(`^Usage: mirrorhook ${entry.name} ([a-z][a-z-]+)`).exec(parent);
    if (own.length === 0 && usage) own.push([entry.name, usage[1] ?? '']);
    found.push(...(own.length > 0 ? own : [[entry.name]]));
  }
  return found;
}

async function helpText(argv: readonly string[]): Promise<string> {
  const { stdout, stderr } = await runCommand([...argv, '--help']);
  return `${stdout}${stderr}`;
}

/** The lines under `Example:` / `Examples:` of each command's `--help` that start with `mirrorhook `. */
export async function helpExamples(): Promise<Example[]> {
  const examples: Example[] = [];
  for (const argv of await helpCommands()) {
    let inExamples = false;
    for (const line of (await helpText(argv)).split('\n')) {
      if (/^Examples?:/.test(line)) inExamples = true;
      else if (!line.startsWith(' ')) inExamples = false;
      const command = inExamples ? /^\s+mirrorhook (.*?)(\s+#.*)?$/.exec(line) : null;
      if (command) examples.push({ where: `--help of mirrorhook ${argv.join(' ')}`, command: (command[1] ?? '').trim(), output: undefined });
    }
  }
  return examples;
}
