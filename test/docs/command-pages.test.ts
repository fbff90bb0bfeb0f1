import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';
import { helpCommands } from './examples.js';

/**
 * Each command page in docs/commands/ documents every flag its `--help` defines (a line starting with the flag), so
 * the page and `--help` cannot drift apart without copying the help text (ADR 0091). Flags every command shares are
 * documented once, in docs/commands/README.md. A command without a page fails by name.
 */
const common = ['--config', '--help', '--output', '--kubeconfig', '--namespace'];
/** The page of a command: docs/commands/<name>.md with the subcommand joined by '-' (exceptions listed). */
const pages: Record<string, string> = { push: 'docs/commands/push-pull.md', pull: 'docs/commands/push-pull.md', 'mirror-config artifact-registry': 'docs/deploy.md', report: 'docs/report.md' };
const pageOf = (argv: readonly string[]) => pages[argv.join(' ')] ?? `docs/commands/${argv.join('-')}.md`;

const targets = await helpCommands();

describe('command pages in docs/commands/ and --help', () => {
  const index = readFileSync('docs/commands/README.md', 'utf8');
  it('documents the shared flags once, in docs/commands/README.md', () => {
    expect(common.filter((flag) => !index.includes(`\`${flag}`))).toEqual([]);
  });

  it.each(targets.map((argv) => [argv.join(' '), argv] as const))(
    'mirrorhook %s: its page documents every flag --help defines',
    async (_name, argv) => {
      const page = pageOf(argv);
      expect(existsSync(page), `${page} is missing`).toBe(true);
      const { stdout, stderr } = await runCommand([...argv, '--help']);
      const flags = new Set([...`${stdout}${stderr}`.matchAll(/^\s+(--[a-z][a-z-]*)/gm)].map((match) => match[1] ?? ''));
      const text = readFileSync(page, 'utf8');
      expect([...flags].filter((flag) => !common.includes(flag) && !text.includes(`${flag}`)), `flags of mirrorhook ${argv.join(' ')} --help not in ${page}`).toEqual([]);
    },
  );
});
