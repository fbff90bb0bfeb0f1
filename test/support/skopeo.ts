/**
 * `skopeo inspect --raw` against a test registry: the independent witness that a copy is byte-identical.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import type { TestRegistry } from './registry.js';

const run = promisify(execFile);

/** The raw manifest bytes skopeo reads for `reference` (`host/repo:tag` or `@digest`) and their sha256 digest. */
export async function skopeoRaw(registry: TestRegistry, reference: string): Promise<{ bytes: Buffer; digest: string }> {
  const args = ['inspect', '--raw'];
  if (registry.tls) args.push('--tls-verify=true', '--cert-dir', certDirOf(registry));
  else args.push('--tls-verify=false');
  if (registry.credential) args.push('--creds', `${registry.credential.username}:${registry.credential.password}`);
  else args.push('--no-creds');
  args.push(`docker://${reference}`);
  const { stdout } = await run('skopeo', args, { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 });
  return { bytes: stdout, digest: `sha256:${createHash('sha256').update(stdout).digest('hex')}` };
}

function certDirOf(registry: TestRegistry): string {
  if (registry.caFile === undefined) throw new Error('TLS registry without a CA file');
  // skopeo's --cert-dir wants a folder of *.crt files; the CA sits in the registry's work dir as ca.pem.
  return registry.caFile.replace(/\/ca\.pem$/, '/skopeo-certs');
}
