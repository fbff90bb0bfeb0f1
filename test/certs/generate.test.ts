import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certificateNotAfter, generateCertificateSet, readServingPair, serviceDnsNames, writeCertificateFiles } from '../../src/certs/index.js';

describe('certificate generation', () => {
  const now = new Date('2026-11-21T12:00:00Z');
  const set = generateCertificateSet({ service: 'mirrorhook', namespace: 'infra', dnsNames: ['webhook.example.com'], ipAddresses: ['10.0.0.7', '::1'], validityDays: 30, now });
  const ca = new X509Certificate(set.ca.cert);
  const serving = new X509Certificate(set.serving.cert);

  it('makes a CA that signed the serving certificate', () => {
    expect(ca.ca).toBe(true);
    expect(serving.ca).toBe(false);
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(serving.checkIssued(ca)).toBe(true);
  });

  it('covers the Service names and the extras', () => {
    for (const name of [...serviceDnsNames('mirrorhook', 'infra'), 'webhook.example.com']) {
      expect(serving.checkHost(name)).toBe(name);
    }
    expect(serving.checkIP('10.0.0.7')).toBe('10.0.0.7');
    expect(serving.subjectAltName).toContain('IP Address:0:0:0:0:0:0:0:1');
    expect(serving.checkHost('other.infra.svc')).toBeUndefined();
  });

  it('is valid from just before now for the asked number of days, for server authentication', () => {
    expect(new Date(serving.validFrom).getTime()).toBeLessThanOrEqual(now.getTime());
    expect(certificateNotAfter(set.serving.cert).toISOString()).toBe('2026-12-21T12:00:00.000Z');
    expect(serving.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
  });

  it('writes ca.crt, tls.crt and a private tls.key, and reads the pair back', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mh-certs-'));
    const paths = await writeCertificateFiles(directory, set);
    expect(statSync(paths.key).mode & 0o777).toBe(0o600);
    expect(readFileSync(paths.ca, 'utf8')).toBe(set.ca.cert);
    expect(await readServingPair(paths.cert, paths.key)).toEqual(set.serving);
  });

  it('refuses a key that does not belong to the certificate, and unreadable files', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mh-certs-'));
    const other = generateCertificateSet({ service: 'x', namespace: 'y' });
    writeFileSync(join(directory, 'tls.crt'), set.serving.cert);
    writeFileSync(join(directory, 'tls.key'), other.serving.key);
    writeFileSync(join(directory, 'junk.crt'), 'not a certificate');
    await expect(readServingPair(join(directory, 'tls.crt'), join(directory, 'tls.key'))).rejects.toMatchObject({ code: 'MH_CERT_INVALID' });
    await expect(readServingPair(join(directory, 'junk.crt'), join(directory, 'tls.key'))).rejects.toMatchObject({ code: 'MH_CERT_INVALID' });
    await expect(readServingPair(join(directory, 'missing.crt'), join(directory, 'tls.key'))).rejects.toMatchObject({ code: 'MH_CERT_READ' });
  });
});
