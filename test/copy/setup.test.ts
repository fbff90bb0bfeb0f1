/**
 * The composition root: mirror.insecure and mirror.caFile reach the mirror's host whatever role it plays in a
 * command (copy's destination, ls's repository, the webhook's catalog), and flags given for a run win.
 */
import { describe, expect, it } from 'vitest';
import { createCopyClient, resolveRegistrySettings } from '../../src/copy/setup.js';

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function settingsWith(mirror: { registry: string; insecure: boolean; caFile: string }) {
  const reads: string[] = [];
  const readFile = async (file: string) => {
    reads.push(file);
    return pem;
  };
  return { reads, base: { env: {}, config: { mirror, credentials: { dockerConfig: '' } }, readFile } };
}

describe('registry clients from (config, overrides)', () => {
  it('gives the mirror host mirror.insecure as a destination, as a source and when it is neither', async () => {
    const { base } = settingsWith({ registry: 'mirror.example:5000/team', insecure: true, caFile: '' });
    for (const roles of [{ destinationHosts: ['mirror.example:5000'] }, { sourceHosts: ['mirror.example:5000'] }, {}]) {
      const client = await createCopyClient({ ...base, ...roles, sourceHosts: [...(roles.sourceHosts ?? []), 'quay.io'] });
      expect(client.transport.baseUrl('mirror.example:5000')).toBe('http://mirror.example:5000');
      expect(client.transport.baseUrl('quay.io')).toBe('https://quay.io');
      await client.close();
    }
  });

  it('reads mirror.caFile once and uses it for the mirror (HTTPS even on loopback); a flag CA applies to its own hosts', async () => {
    const { base, reads } = settingsWith({ registry: '127.0.0.1:5000/m', insecure: false, caFile: '/etc/mirror-ca.pem' });
    const clients = await resolveRegistrySettings({ ...base, sourceHosts: ['127.0.0.1:6000'] });
    const one = clients.client();
    const two = clients.client({}, [async () => undefined]);
    expect(reads).toEqual(['/etc/mirror-ca.pem']);
    for (const client of [one, two]) {
      expect(client.transport.baseUrl('127.0.0.1:5000')).toBe('https://127.0.0.1:5000');
      expect(client.transport.baseUrl('127.0.0.1:6000')).toBe('http://127.0.0.1:6000');
      await client.close();
    }
    const flagged = await createCopyClient({ ...base, destinationHosts: ['127.0.0.1:5000'], caFile: '/tmp/flag-ca.pem', sourceCaFile: '/tmp/src-ca.pem', sourceHosts: ['127.0.0.1:6000'] });
    expect(flagged.transport.baseUrl('127.0.0.1:6000')).toBe('https://127.0.0.1:6000');
    await flagged.close();
  });

  it('refuses a mirror.caFile with no PEM certificate, for every command alike', async () => {
    const settings = { env: {}, config: { mirror: { registry: 'm.example/x', insecure: false, caFile: '/bad.pem' }, credentials: { dockerConfig: '' } }, readFile: async () => 'not a cert' };
    await expect(resolveRegistrySettings(settings)).rejects.toMatchObject({ code: 'MH_REGISTRY_CA_FILE' });
  });

  it('reads credentials.dockerConfig unless --authfile is given', async () => {
    const missing = { env: {}, config: { mirror: { registry: 'm.example/x', insecure: false, caFile: '' }, credentials: { dockerConfig: '/nowhere/config.json' } } };
    await expect(resolveRegistrySettings(missing)).rejects.toMatchObject({ code: 'MH_REGISTRY_CREDENTIALS', message: expect.stringContaining('/nowhere/config.json') as unknown });
    await expect(resolveRegistrySettings({ ...missing, authFile: '/elsewhere/auth.json' })).rejects.toMatchObject({ message: expect.stringContaining('/elsewhere/auth.json') as unknown });
  });
});
