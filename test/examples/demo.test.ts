import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/registry.js';

const run = promisify(execFile);

// The README's background-mirroring walkthrough is a script; running it here keeps the README true.
describe('examples/demo/background-mirroring.sh', () => {
  it('shows the first Pod unchanged, the copy byte-identical, the second Pod rewritten', async () => {
    const [source, mirror, hook] = [await freePort(), await freePort(), await freePort()];
    const { stdout } = await run('bash', ['examples/demo/background-mirroring.sh'], {
      env: { ...process.env, DEMO_SOURCE_PORT: String(source), DEMO_MIRROR_PORT: String(mirror), DEMO_WEBHOOK_PORT: String(hook) },
      timeout: 120_000,
    });
    const [first, copied, second] = stdout.split(/\n# \d\. /).slice(1);
    expect(first).toContain(`mirrorhook: web: localhost:${source}/shop/app:v1 kept: not-in-mirror: copy queued`);
    expect(first).not.toContain('"patch"');
    const digests = [...(copied ?? '').matchAll(/(source|mirror): (sha256:[a-f0-9]{64})/g)].map((match) => match[2]);
    expect(digests).toHaveLength(2);
    expect(digests[0]).toBe(digests[1]);
    expect(second).toContain(`"value": "localhost:${mirror}/mirror/localhost_${source}/shop/app:v1"`);
  });
});
