import { afterAll, beforeAll, describe, it } from 'vitest';
import { type HostileCase, expectRefused, hostileRoot, nested } from './hostile-support.js';

/**
 * Hostile image lists (`copy -f`) and log exports (`pulls --from-logs`), issue 14 item 5: garbage lines, one line
 * of 10 MB, NUL bytes, binary, 100,000 levels of nesting, truncated JSON. Each must end with a code (exit 2 for
 * the bad file), no stack trace, nothing written.
 */
const config = 'mirror: {registry: 127.0.0.1:9/mirror, insecure: true}\n';
const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) % 256));

// A list is read leniently (like scan): each bad line is named with its number and skipped, and the run exits 1.
const rejected = /line 1: .*invalid/;
const lists: HostileCase[] = [
  { name: 'list of garbage lines', files: { 'mirrorhook.yaml': config, 'l.txt': 'not an image!!\n@@@\nUPPER/Case:tag\n' }, args: ['copy', '-f', 'l.txt'], code: rejected, exit: 1 },
  { name: 'list of one 10 MB line', files: { 'mirrorhook.yaml': config, 'l.txt': `${'a'.repeat(10_000_000)}\n` }, args: ['copy', '-f', 'l.txt'], code: /line 1: a{200,}\.\.\.\n/, exit: 1, maxStderr: 2_000 },
  { name: 'list with NUL bytes', files: { 'mirrorhook.yaml': config, 'l.txt': 'nginx:1\u0000evil\u001b[2J\n' }, args: ['copy', '-f', 'l.txt'], code: /line 1: nginx:1\?evil\?\[2J/, exit: 1 },
  { name: 'list binary', files: { 'mirrorhook.yaml': config, 'l.txt': binary }, args: ['copy', '-f', 'l.txt'], code: rejected, exit: 1, maxStderr: 20_000 },
  { name: 'list empty', files: { 'mirrorhook.yaml': config, 'l.txt': '' }, args: ['copy', '-f', 'l.txt'], code: /^$/, exit: 0 },
  { name: 'list missing', files: { 'mirrorhook.yaml': config }, args: ['copy', '-f', 'nothere.txt'], code: /MH_[A-Z_]+/, exit: 2 },
];

const logs: HostileCase[] = [
  { name: 'log export not JSON', files: { 'l.json': 'this is not json\n' }, args: ['pulls', '--from-logs', 'l.json'], code: /MH_PULLS_LOG_[A-Z]+/, exit: 2 },
  { name: 'log export truncated', files: { 'l.json': '[{"jsonPayload": {"reason": "Pulling", "message": "Pulling image \\"ng' }, args: ['pulls', '--from-logs', 'l.json'], code: /MH_PULLS_LOG_[A-Z]+/, exit: 2 },
  { name: 'log export 100000 levels deep', files: { 'l.json': nested(100_000, '[', ']') }, args: ['pulls', '--from-logs', 'l.json'], code: /MH_PULLS_LOG_[A-Z]+/, exit: 2 },
  { name: 'log export binary', files: { 'l.json': binary }, args: ['pulls', '--from-logs', 'l.json'], code: /MH_PULLS_LOG_[A-Z]+/, exit: 2 },
  { name: 'log export of wrong objects', files: { 'l.json': JSON.stringify(Array.from({ length: 50_000 }, (_, i) => ({ jsonPayload: i % 2 ? 'x' : { message: { nested: i } }, resource: null }))) }, args: ['pulls', '--from-logs', 'l.json'], code: /MH_PULLS_LOG_[A-Z]+/, exit: 2 },
  { name: 'log export a folder', files: { 'l.json': async (cwd) => (await import('node:fs/promises')).mkdir(`${cwd}/l.json`) }, args: ['pulls', '--from-logs', 'l.json'], code: /MH_PULLS_LOG_READ/, exit: 2 },
];

describe('hostile image lists and log exports', () => {
  let root: Awaited<ReturnType<typeof hostileRoot>>;
  beforeAll(async () => {
    root = await hostileRoot('lists');
  });
  afterAll(() => root?.remove());

  it.each(lists)('$name', async (hostile) => console.log(`${hostile.name}: ${await expectRefused(root.dir, hostile)}`));
  it.each(logs)('$name', async (hostile) => console.log(`${hostile.name}: ${await expectRefused(root.dir, hostile)}`));
});
