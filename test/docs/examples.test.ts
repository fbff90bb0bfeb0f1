import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';
import { type Example, helpExamples, markdownExamples } from './examples.js';
import { notRunHere } from './not-run-here.js';

/**
 * Every command example in README.md, docs/**\/*.md and each command's `--help` is either run here against real
 * files (its shown output compared, lines in any order) or listed in not-run-here.ts with the tier that runs it or
 * the reason it cannot run yet. A new example in neither place fails this test by name (ADR 0090).
 */
const key = (example: Example) => `${example.where.replace(/:\d+$/, '')} | ${example.command}`;

/**
 * Runs in-process on the repository's files, no registry, no cluster: commands that only read files (or, with
 * --dry-run, print what they would do). `--out DIR` is redirected to a fresh temporary directory.
 */
function runnableHere(example: Example): boolean {
  if (notRunHere.has(key(example))) return false;
  if (/--cluster|--kubeconfig|>\s/.test(example.command)) return false;
  if (example.command === '--version') return true;
  if (/^mirror-config artifact-registry /.test(example.command)) return example.command.includes('--dry-run');
  return /^(scan|rewrite|pulls|map|policy binauthz|mirror-config (containerd|crio|docker|openshift)|report --offline|certs generate) /.test(example.command);
}

function argvOf(command: string): string[] {
  const argv = [...command.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? '');
  const out = argv.indexOf('--out');
  if (out >= 0) argv[out + 1] = join(mkdtempSync(join(tmpdir(), 'mirrorhook-example-')), 'out');
  return argv;
}

const examples = [...markdownExamples(), ...(await helpExamples())];
const run = examples.filter(runnableHere);

describe('command examples in README.md, docs/ and --help', () => {
  it('finds the examples (README.md, docs pages and --help texts)', () => {
    expect(examples.some((example) => example.where.startsWith('docs/commands/'))).toBe(true);
    expect(examples.some((example) => example.where.startsWith('--help of'))).toBe(true);
    expect(run.length).toBeGreaterThan(5);
  });

  it('leaves no example silently unrun: each is run here or listed in not-run-here.ts with its reason', () => {
    const uncovered = examples.filter((example) => !runnableHere(example) && !notRunHere.has(key(example)));
    expect(uncovered.map((example) => `${example.where}: mirrorhook ${example.command} (not run here: ${example.output === undefined ? 'no output shown' : 'needs a registry, a cluster or a file it does not name'}; run it or list it in test/docs/not-run-here.ts)`)).toEqual([]);
  });

  it('has no stale entry in not-run-here.ts', () => {
    const present = new Set(examples.map(key));
    expect([...notRunHere.keys()].filter((entry) => !present.has(entry))).toEqual([]);
  });

  it.each(run.map((example) => [`${example.where}: mirrorhook ${example.command}`, example] as const))('%s runs as shown', async (_name, example) => {
    // `certs generate` writes certs/ where it runs: a fresh folder, never the checkout's own certs/.
    const cwd = example.command.startsWith('certs generate') ? mkdtempSync(join(tmpdir(), 'mirrorhook-example-cwd-')) : undefined;
    const { code, stdout, stderr } = await runCommand(argvOf(example.command), cwd === undefined ? {} : { cwd });
    if (example.output === undefined) {
      // No output shown: the example must be valid usage (exit 0, or 1 for a reported finding; 2 is bad usage).
      expect(code, stderr).toBeLessThan(2);
      return;
    }
    const shown = example.output.filter((line) => line !== '' && !line.startsWith('$ echo') && !/^\d+$/.test(line));
    const printed = `${stderr}${stdout}`.split('\n').filter((line) => line !== '');
    expect([...printed].sort()).toEqual([...shown].sort());
  });
});
