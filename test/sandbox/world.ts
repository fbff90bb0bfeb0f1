/**
 * The world the docs' examples assume, built inside the network namespace test/sandbox/run.sh made: every host and
 * port an example names is a real server here, so the examples run exactly as written.
 *
 *   host (resolves to, via the namespace's /etc/hosts)       server
 *   docker.io, index.docker.io, registry-1.docker.io (.2)    docker-registry, HTTPS :443, anonymous: library/nginx
 *   quay.io (127.0.0.3)                                      docker-registry, HTTPS :443, anonymous: prometheus/node-exporter
 *   harbor.internal (127.0.0.4)                              docker-registry, HTTPS :443, htpasswd admin / $HARBOR_PASSWORD
 *   oauth2.googleapis.com, artifactregistry.googleapis.com   the simulated Google endpoints (test/support/google.ts), HTTPS
 *   localhost:5000, localhost:5001                           docker-registry, plain HTTP (the mirror; the air-gapped side)
 *   127.0.0.1:36797 / :40297                                 copy.md's registries: htpasswd alice / Bearer tokens for bob
 *   127.0.0.1:42627 / :43927                                 sync.md's source and mirror
 *
 * One test CA signs every HTTPS server; the reader's machine trusts it (NODE_EXTRA_CA_CERTS for mirrorhook,
 * SSL_CERT_FILE for crane and skopeo), as a company CA would be. Images are generated from fixed seeds, so their
 * digests are the same on every run and the docs can show them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient, type RepositoryRef, staticProvider } from '../../src/registry/index.js';
import { type FakeGoogle, startFakeGoogle } from '../support/google.js';
import { type TestImageOptions, pushTestImage } from '../support/images.js';
import { type RegistryOptions, type TestRegistry, makeCertificateAuthority, makeServingCertificate, startRegistry } from '../support/registry.js';

export const harborPassword = 'harbor-admin-secret';

export interface World {
  readonly dir: string;
  /** The test CA's certificate (PEM file), trusted by the reader's machine. */
  readonly caFile: string;
  /** The system CA bundle plus the test CA: SSL_CERT_FILE for Go programs (crane, skopeo). */
  readonly caBundle: string;
  readonly google: FakeGoogle;
  readonly registries: Readonly<Record<RegistryName, TestRegistry>>;
  /** Empties the registries examples write to (and Google's repositories): each example group starts alike. */
  reset(): Promise<void>;
  /** Pushes a generated image; the same name and tag give the same digest on every run. */
  seed(registry: RegistryName, path: string, tag: string, options?: TestImageOptions): Promise<string>;
  stop(): Promise<void>;
}

const seeded = { hub: true, quay: true, copySource: true, syncSource: true } as const;
export type RegistryName = keyof typeof seeded | 'harbor' | 'local5000' | 'local5001' | 'copyTarget' | 'syncMirror';

function isSeeded(name: RegistryName): boolean {
  return Object.hasOwn(seeded, name);
}

export async function startWorld(): Promise<World> {
  const resolved = readFileSync('/etc/hosts', 'utf8');
  if (!/^127\.0\.0\.3\s+quay\.io\b/m.test(resolved)) {
    throw new Error('test/sandbox runs inside the namespace test/sandbox/run.sh makes (its /etc/hosts maps quay.io to 127.0.0.3): run it with "bash test/sandbox/run.sh"');
  }
  const dir = await mkdtemp(join(tmpdir(), 'mirrorhook-sandbox-'));
  const ca = { certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key') };
  await makeCertificateAuthority(ca.certFile, ca.keyFile);
  const caBundle = join(dir, 'ca-bundle.crt');
  writeFileSync(caBundle, `${readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8')}\n${readFileSync(ca.certFile, 'utf8')}`);

  const specs: Record<RegistryName, RegistryOptions> = {
    hub: { listen: '127.0.0.2:443', tls: true, ca, serverNames: ['docker.io', 'index.docker.io', 'registry-1.docker.io'] },
    quay: { listen: '127.0.0.3:443', tls: true, ca, serverNames: ['quay.io'] },
    harbor: { listen: '127.0.0.4:443', tls: true, ca, serverNames: ['harbor.internal'], auth: 'htpasswd', username: 'admin', password: harborPassword },
    local5000: { listen: '127.0.0.1:5000' },
    local5001: { listen: '127.0.0.1:5001' },
    copySource: { listen: '127.0.0.1:36797', auth: 'htpasswd', username: 'alice', password: 'src-secret' },
    copyTarget: { listen: '127.0.0.1:40297', auth: 'token', username: 'bob', password: 'dst-secret' },
    syncSource: { listen: '127.0.0.1:42627' },
    syncMirror: { listen: '127.0.0.1:43927' },
  };
  const started: Partial<Record<RegistryName, TestRegistry>> = {};
  const google = await startFakeGoogle({
    listen: { host: '127.0.0.5', port: 443 },
    tls: await serving(dir, ca, '127.0.0.5', ['oauth2.googleapis.com', 'artifactregistry.googleapis.com']),
  });
  try {
    for (const [name, options] of Object.entries(specs) as [RegistryName, RegistryOptions][]) started[name] = await startRegistry(options);
  } catch (error) {
    await Promise.all(Object.values(started).map((registry) => registry.stop()));
    await google.close();
    throw error;
  }
  const registries = started as Record<RegistryName, TestRegistry>;
  const restart = async (name: RegistryName): Promise<void> => {
    await registries[name].stop();
    registries[name] = await startRegistry(specs[name]);
  };
  const caPem = readFileSync(ca.certFile, 'utf8');
  const client = new RegistryClient({
    credentials: staticProvider({
      [registries.copySource.host]: { kind: 'basic', username: 'alice', password: 'src-secret' },
      [registries.harbor.host.replace(/:443$/, '')]: { kind: 'basic', username: 'admin', password: harborPassword },
    }),
    hostOptions: (host: string) => (/^(127\.0\.0\.1|localhost):/.test(host) ? {} : { ca: caPem }),
  });
  const hostOf = (name: RegistryName): string => {
    const host = registries[name].host;
    if (name === 'hub') return 'docker.io';
    if (name === 'quay') return 'quay.io';
    if (name === 'harbor') return 'harbor.internal';
    return host.replace(/^127\.0\.0\.1:/, name.startsWith('local') ? 'localhost:' : '127.0.0.1:');
  };

  return {
    dir,
    caFile: ca.certFile,
    caBundle,
    google,
    registries,
    async reset() {
      // A registry written to is started again on empty storage: distribution keeps what it knows of blobs in
      // memory, so emptying its folder under it would leave it answering for blobs that are gone.
      for (const [name, registry] of Object.entries(registries) as [RegistryName, TestRegistry][]) {
        if (!isSeeded(name) && existsSync(join(registry.storageDir, 'docker'))) await restart(name);
      }
      google.repositories.clear();
    },
    async seed(name, path, tag, options = {}) {
      const repo: RepositoryRef = { domain: hostOf(name), path };
      const image = await pushTestImage(client, repo, tag, { seed: `${path}:${tag}`, ...options });
      return image.digest;
    },
    async stop() {
      await Promise.all(Object.values(registries).map((registry) => registry.stop()));
      await google.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function serving(dir: string, ca: { certFile: string; keyFile: string }, address: string, names: readonly string[]): Promise<{ cert: string; key: string }> {
  await mkdir(join(dir, 'google'));
  const files = await makeServingCertificate(join(dir, 'google'), address, names, ca);
  return { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') };
}
