import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';

/**
 * The README shows scan, rewrite and pulls run against examples/ with their real output: this runs each of those
 * file-based commands again and checks the README still shows what they print (stdout and stderr lines alike).
 */
const readme = readFileSync('README.md', 'utf8');
const blocks = [...readme.matchAll(/```console\n\$ mirrorhook ((?:scan|rewrite|pulls) [^\n]*)\n([\s\S]*?)```/g)]
  .map((match) => ({ command: match[1] ?? '', output: match[2] ?? '' }))
  .filter((block) => !block.command.includes('--kubeconfig') && !block.command.includes('--cluster'));

describe('README examples of scan, rewrite and pulls', () => {
  it('has the examples', () => {
    expect(blocks.map((block) => block.command.split(' ')[0])).toEqual(expect.arrayContaining(['scan', 'rewrite', 'pulls']));
  });

  it.each(blocks.map((block) => [block.command, block] as const))('mirrorhook %s prints what the README shows', async (_command, block) => {
    const shown = block.output.split('\n').filter((line) => line !== '' && !line.startsWith('$ echo') && !/^\d+$/.test(line));
    const { stdout, stderr } = await runCommand(block.command.split(' '));
    const printed = `${stderr}${stdout}`.split('\n').filter((line) => line !== '');
    expect([...printed].sort()).toEqual([...shown].sort());
  });
});
