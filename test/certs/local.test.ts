import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CertificateSet, generateCertificateSet } from '../../src/certs/generate.js';
import { localServingPair } from '../../src/certs/local.js';

/** What `serve` without --cert does with the files in the --ca-out folder (ADR 0111); the CLI tests are in test/cli/serve-certs.test.ts. */
const local = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] };

function folderWith(files: Partial<Record<'ca.crt' | 'tls.crt' | 'tls.key', string>>): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'mh-local-')), 'certs');
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const setFiles = (set: CertificateSet) => ({ 'ca.crt': set.ca.cert, 'tls.crt': set.serving.cert, 'tls.key': set.serving.key });

describe('localServingPair', () => {
  it('reuses a usable set', async () => {
    const dir = folderWith(setFiles(generateCertificateSet({ service: 'mirrorhook', namespace: 'mirrorhook', ...local })));
    expect(await localServingPair({ caPath: join(dir, 'ca.crt') })).toMatchObject({ kind: 'reused', certPath: join(dir, 'tls.crt'), keyPath: join(dir, 'tls.key') });
  });

  const other = generateCertificateSet({ service: 'mirrorhook', namespace: 'mirrorhook', ...local });
  const good = generateCertificateSet({ service: 'mirrorhook', namespace: 'mirrorhook', ...local });
  it.each([
    ['an expiring set', setFiles(generateCertificateSet({ service: 'mirrorhook', namespace: 'mirrorhook', ...local, validitySeconds: 3600 })), /tls\.crt expires /],
    ['a key of another certificate', { ...setFiles(good), 'tls.key': other.serving.key }, /tls\.key does not belong to .*tls\.crt/],
    ['a certificate of another CA', { ...setFiles(good), 'ca.crt': other.ca.cert }, /tls\.crt is not signed by .*ca\.crt/],
    ['files that are not PEM', { 'ca.crt': 'x', 'tls.crt': 'y', 'tls.key': 'z' }, /are not a PEM certificate set/],
    ['a key and certificate without their CA', { 'tls.crt': good.serving.cert, 'tls.key': good.serving.key }, /tls\.crt and .*tls\.key exist without the rest of a set/],
  ])('leaves %s alone and writes the new CA elsewhere', async (_name, files, reason) => {
    const dir = folderWith(files);
    const elsewhere = mkdtempSync(join(tmpdir(), 'mh-elsewhere-'));
    const result = await localServingPair({ caPath: join(dir, 'ca.crt'), elsewhere: () => Promise.resolve(elsewhere) });
    expect(result.kind).toBe('generated');
    if (result.kind !== 'generated') return;
    expect(result.kept).toMatch(reason);
    expect(result.caPath).toBe(join(elsewhere, 'ca.crt'));
    expect(readFileSync(join(elsewhere, 'ca.crt'), 'utf8')).toBe(result.ca);
    for (const [name, text] of Object.entries(files)) expect(readFileSync(join(dir, name), 'utf8')).toBe(text);
  });
});
