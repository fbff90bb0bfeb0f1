/**
 * The e2e suite's Kubernetes control plane: etcd (Debian `etcd-server`), the pinned kube-apiserver and
 * kube-controller-manager (test/e2e/kube/build.sh), all on loopback ephemeral ports with certificates generated
 * for this run. Used by global-setup.ts; tests reach it through harness.ts.
 *
 * Every child runs under a small bash watchdog that stops it when this Node process goes away, however it goes
 * (even SIGKILL), and stop() kills the children and removes the work directory. Work directories of earlier runs
 * whose owner process is gone are removed on the next start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, createWriteStream, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { type IncomingMessage, request as httpRequest } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { type KeyPair, createCertificateAuthority, createServiceAccountKeys, issueCertificate } from './pki.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Where the control-plane logs of the last run are copied on stop (gitignored), for reading after a failure. */
export const lastRunLogDir = join(repoRoot, 'test/e2e/.work/logs');
const workDirPrefix = 'mirrorhook-e2e-';

export interface ControlPlaneInfo {
  /** Kubeconfig of the tests' super-user (client certificate in group system:masters), data embedded. */
  readonly kubeconfigPath: string;
  readonly apiServerUrl: string;
  /** The CA that signed the API server's serving certificate and every client certificate. */
  readonly caCertPath: string;
  readonly workDir: string;
  /** The directory holding kube-apiserver, kube-controller-manager and kubectl. */
  readonly binDir: string;
  readonly kubernetesVersion: string;
  /**
   * The API server's audit log (JSON lines, level Metadata; Pods and their subresources, deletions and reads of
   * MutatingWebhookConfigurations, deletions of Services): where webhooks' auditAnnotations end up, as `<webhook name>/<key>`,
   * and who deleted what when.
   */
  readonly auditLogPath: string;
  /**
   * The Service IP range (--service-cluster-ip-range): a /16 of 127.0.0.0/8 picked per run. The API server calls a
   * webhook configured by `clientConfig.service` at the Service's ClusterIP and port, so a test can serve a
   * Service-backed webhook by listening on that loopback address (docs/adr/0220-service-webhooks-on-loopback-cluster-ips.md).
   */
  readonly serviceClusterIpRange: string;
}

export interface ControlPlane extends ControlPlaneInfo {
  readonly stop: () => Promise<void>;
}

export interface ControlPlaneOptions {
  readonly log?: (line: string) => void;
  readonly readyTimeoutMs?: number;
}

/** Starts etcd, kube-apiserver and kube-controller-manager; on any failure everything started is stopped again. */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = options.log ?? (() => undefined);
  const readyTimeoutMs = options.readyTimeoutMs ?? 180_000;
  const apiServerBinary = findBinary('kube-apiserver');
  const controllerManagerBinary = findBinary('kube-controller-manager');
  const etcdBinary = findBinary('etcd');
  removeAbandonedWorkDirs();

  // Memory-backed when available: etcd fsyncs every write, and tests do not need durability.
  const base = isWritableDir('/dev/shm') ? '/dev/shm' : tmpdir();
  const workDir = await mkdtemp(join(base, workDirPrefix));
  await writeFile(join(workDir, 'owner.pid'), String(process.pid));
  const children: Supervised[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stopNow);
    for (const child of children.reverse()) await child.stop();
    await rm(lastRunLogDir, { recursive: true, force: true });
    await mkdir(lastRunLogDir, { recursive: true });
    await cp(join(workDir, 'logs'), lastRunLogDir, { recursive: true }).catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  };
  // A last resort when the process exits without teardown (the watchdogs stop the children themselves).
  const stopNow = (): void => {
    for (const child of children) child.child.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  };
  process.on('exit', stopNow);

  try {
    await mkdir(join(workDir, 'logs'));
    const services = serviceRange();
    const pki = await writePki(workDir, services.kubernetesServiceIp);

    const [etcdClientPort, etcdPeerPort, apiServerPort] = await freePorts(3);
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const etcdPeerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    log(`starting etcd on ${etcdUrl}`);
    const etcd = startSupervised('etcd', etcdBinary, [
      '--name=e2e',
      `--data-dir=${join(workDir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${etcdPeerUrl}`,
      `--initial-advertise-peer-urls=${etcdPeerUrl}`,
      `--initial-cluster=e2e=${etcdPeerUrl}`,
      '--log-level=warn',
      '--logger=zap',
    ], workDir);
    children.push(etcd);
    await waitUntilReady(etcd, readyTimeoutMs, async () => (await httpGet(`${etcdUrl}/health`)).includes('"health":"true"'));

    const apiServerUrl = `https://127.0.0.1:${apiServerPort}`;
    const auditLogPath = join(workDir, 'logs', 'audit.log');
    const auditPolicyPath = join(workDir, 'audit-policy.yaml');
    await writeFile(
      auditPolicyPath,
      stringify({
        apiVersion: 'audit.k8s.io/v1',
        kind: 'Policy',
        omitStages: ['RequestReceived'],
        rules: [
          { level: 'Metadata', resources: [{ group: '', resources: ['pods', 'pods/ephemeralcontainers'] }] },
          // Who deleted (or read) a webhook configuration and who deleted a Service, and when: the order of an uninstall.
          { level: 'Metadata', verbs: ['delete', 'get'], resources: [{ group: 'admissionregistration.k8s.io', resources: ['mutatingwebhookconfigurations'] }] },
          { level: 'Metadata', verbs: ['delete'], resources: [{ group: '', resources: ['services'] }] },
          { level: 'None' },
        ],
      }),
    );
    log(`starting kube-apiserver on ${apiServerUrl}`);
    const apiServer = startSupervised('kube-apiserver', apiServerBinary, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiServerPort}`,
      `--tls-cert-file=${pki.files.apiServerCert}`,
      `--tls-private-key-file=${pki.files.apiServerKey}`,
      `--client-ca-file=${pki.files.caCert}`,
      `--cert-dir=${join(workDir, 'apiserver-certs')}`,
      // RBAC only: tests act as a system:masters super-user and check other identities with access reviews.
      '--authorization-mode=RBAC',
      '--anonymous-auth=false',
      '--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,MutatingAdmissionWebhook,ValidatingAdmissionWebhook',
      `--service-account-key-file=${pki.files.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${pki.files.serviceAccountPrivateKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-cluster-ip-range=${services.cidr}`,
      '--allow-privileged=true',
      // The built-in kubernetes Service cannot point at a loopback address; nothing here needs it.
      '--endpoint-reconciler-type=none',
      `--audit-policy-file=${auditPolicyPath}`,
      `--audit-log-path=${auditLogPath}`,
      '--audit-log-format=json',
      '--profiling=false',
      '--v=1',
    ], workDir);
    children.push(apiServer);
    const adminTls = { ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key };
    await waitUntilReady(apiServer, readyTimeoutMs, async () => (await httpsGet(`${apiServerUrl}/readyz`, adminTls)) === 'ok');

    const kubeconfigPath = join(workDir, 'admin.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfigYaml(apiServerUrl, pki.ca.cert, 'e2e-admin', pki.admin));
    const controllerManagerKubeconfig = join(workDir, 'controller-manager.kubeconfig');
    await writeFile(
      controllerManagerKubeconfig,
      kubeconfigYaml(apiServerUrl, pki.ca.cert, 'system:kube-controller-manager', pki.controllerManager),
    );

    log('starting kube-controller-manager');
    const controllerManager = startSupervised('kube-controller-manager', controllerManagerBinary, [
      `--kubeconfig=${controllerManagerKubeconfig}`,
      `--authentication-kubeconfig=${controllerManagerKubeconfig}`,
      `--authorization-kubeconfig=${controllerManagerKubeconfig}`,
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--leader-elect=false',
      `--service-account-private-key-file=${pki.files.serviceAccountPrivateKey}`,
      `--root-ca-file=${pki.files.caCert}`,
      // Each controller acts as its own kube-system ServiceAccount, with the bootstrap RBAC roles, as kubeadm sets it up.
      '--use-service-account-credentials=true',
      `--service-cluster-ip-range=${services.cidr}`,
      '--profiling=false',
      '--v=1',
    ], workDir);
    children.push(controllerManager);
    // Its service account controller creating default/default shows that its controllers run.
    await waitUntilReady(controllerManager, readyTimeoutMs, async () => {
      const body = await httpsGet(`${apiServerUrl}/api/v1/namespaces/default/serviceaccounts/default`, adminTls).catch(() => '');
      return body.includes('"kind":"ServiceAccount"');
    });

    const version = JSON.parse(await httpsGet(`${apiServerUrl}/version`, adminTls)) as { gitVersion?: string };
    log(`control plane ready: kube-apiserver ${version.gitVersion ?? 'unknown'} at ${apiServerUrl}`);
    return {
      kubeconfigPath,
      apiServerUrl,
      caCertPath: pki.files.caCert,
      workDir,
      binDir: dirname(apiServerBinary),
      kubernetesVersion: version.gitVersion ?? 'unknown',
      auditLogPath,
      serviceClusterIpRange: services.cidr,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Finds a binary in .cache/bin first (what install-tools.sh builds), then on PATH; missing means a loud failure. */
export function findBinary(name: string): string {
  const dirs = [join(repoRoot, '.cache/bin'), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  const hint =
    name === 'etcd'
      ? 'install the Debian package etcd-server (bash test/setup/install-tools.sh)'
      : 'build it with test/e2e/kube/build.sh (bash test/setup/install-tools.sh does)';
  throw new Error(`e2e: ${name} not found in .cache/bin or on PATH: ${hint}`);
}

interface Pki {
  readonly ca: KeyPair;
  readonly admin: KeyPair;
  readonly controllerManager: KeyPair;
  readonly files: Record<
    'caCert' | 'apiServerCert' | 'apiServerKey' | 'serviceAccountPublicKey' | 'serviceAccountPrivateKey',
    string
  >;
}

/**
 * A /16 inside 127.0.0.0/8 (127.64.0.0 to 127.191.0.0, never 127.0.0.0/16), picked per run so that two runs on
 * one machine rarely share Service IPs. Every address of 127.0.0.0/8 is local on Linux's loopback interface.
 */
function serviceRange(): { cidr: string; kubernetesServiceIp: string } {
  const second = 64 + Math.floor(Math.random() * 128);
  return { cidr: `127.${second}.0.0/16`, kubernetesServiceIp: `127.${second}.0.1` };
}

async function writePki(workDir: string, kubernetesServiceIp: string): Promise<Pki> {
  const dir = join(workDir, 'pki');
  await mkdir(dir, { mode: 0o700 });
  const ca = createCertificateAuthority('mirrorhook-e2e-ca');
  const apiServer = issueCertificate(ca, {
    commonName: 'kube-apiserver',
    usage: 'server',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    ipAddresses: ['127.0.0.1', kubernetesServiceIp],
  });
  const admin = issueCertificate(ca, { commonName: 'e2e-admin', organizations: ['system:masters'], usage: 'client' });
  const controllerManager = issueCertificate(ca, { commonName: 'system:kube-controller-manager', usage: 'client' });
  const serviceAccount = createServiceAccountKeys();
  const files = {
    caCert: join(dir, 'ca.crt'),
    apiServerCert: join(dir, 'apiserver.crt'),
    apiServerKey: join(dir, 'apiserver.key'),
    serviceAccountPublicKey: join(dir, 'sa.pub'),
    serviceAccountPrivateKey: join(dir, 'sa.key'),
  };
  await writeFile(files.caCert, ca.cert);
  await writeFile(files.apiServerCert, apiServer.cert);
  await writeFile(files.apiServerKey, apiServer.key, { mode: 0o600 });
  await writeFile(files.serviceAccountPublicKey, serviceAccount.publicKey);
  await writeFile(files.serviceAccountPrivateKey, serviceAccount.privateKey, { mode: 0o600 });
  return { ca, admin, controllerManager, files };
}

function kubeconfigYaml(server: string, caPem: string, user: string, credential: KeyPair): string {
  const base64 = (text: string): string => Buffer.from(text).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server, 'certificate-authority-data': base64(caPem) } }],
    users: [{ name: user, user: { 'client-certificate-data': base64(credential.cert), 'client-key-data': base64(credential.key) } }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user } }],
    'current-context': 'e2e',
  });
}

// Runs "$@" and stops it (TERM, then KILL after 5 s) when the Node process with pid $1 is gone or when told to.
const watchdogScript = `
parent=$1; shift
"$@" &
child=$!
stop() { kill -TERM "$child" 2>/dev/null; for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$child" 2>/dev/null || break; sleep 0.5; done; kill -KILL "$child" 2>/dev/null; }
trap 'stop; wait "$child"; exit 143' TERM INT
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
kill -0 "$child" 2>/dev/null && stop
wait "$child"
`;

interface Supervised {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logPath: string;
  /** Resolves with a description once the process has exited. */
  readonly exited: Promise<string>;
  hasExited(): boolean;
  stop(): Promise<void>;
}

function startSupervised(name: string, binary: string, args: readonly string[], workDir: string): Supervised {
  const logPath = join(workDir, 'logs', `${name}.log`);
  const logStream = createWriteStream(logPath, { flags: 'a' });
  const child = spawn('bash', ['-c', watchdogScript, 'watchdog', String(process.pid), binary, ...args], {
    cwd: workDir,
    // .svc: the API server's requests to a Service-backed webhook are addressed to NAME.NS.svc (then dialled at
    // the ClusterIP); a proxy from the environment would otherwise take them.
    env: { ...process.env, NO_PROXY: '127.0.0.1,localhost,.svc', no_proxy: '127.0.0.1,localhost,.svc' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(logStream, { end: false });
  child.stderr?.pipe(logStream, { end: false });
  let done = false;
  const exited = new Promise<string>((resolveExit) => {
    child.once('error', (error) => {
      done = true;
      resolveExit(`could not start: ${error.message}`);
    });
    child.once('exit', (code, signal) => {
      done = true;
      resolveExit(signal === null ? `exited with code ${String(code)}` : `killed by ${signal}`);
    });
  });
  return {
    name,
    child,
    logPath,
    exited,
    hasExited: () => done,
    stop: async () => {
      if (!done) child.kill('SIGTERM');
      await exited;
      await new Promise<void>((resolveEnd) => logStream.end(resolveEnd));
    },
  };
}

async function waitUntilReady(process_: Supervised, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'not ready';
  while (Date.now() < deadline) {
    if (process_.hasExited()) {
      throw new Error(`e2e: ${process_.name} ${await process_.exited} before it was ready:\n${logTail(process_.logPath)}`);
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 250));
  }
  throw new Error(`e2e: ${process_.name} not ready after ${timeoutMs / 1000}s (${lastError}):\n${logTail(process_.logPath)}`);
}

function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const req = httpRequest(url, { timeout: 2000 }, (response) => collect(response, resolveBody, reject));
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

function httpsGet(url: string, tls: { ca: string; cert: string; key: string }): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const req = httpsRequest(url, { ...tls, timeout: 5000 }, (response) => collect(response, resolveBody, reject));
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

function collect(response: IncomingMessage, resolveBody: (body: string) => void, reject: (error: Error) => void): void {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('error', reject);
  response.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if ((response.statusCode ?? 0) >= 400) reject(new Error(`HTTP ${String(response.statusCode)}: ${body.slice(0, 200)}`));
    else resolveBody(body);
  });
}

/** Ports free right now on 127.0.0.1 (the kernel picks them; a tiny race with other processes remains). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<ReturnType<typeof createServer>>((resolveServer, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolveServer(server));
      }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolveClose) => server.close(resolveClose))));
  return ports;
}

function isWritableDir(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Removes work directories left by runs whose Node process died before its teardown ran. */
function removeAbandonedWorkDirs(): void {
  for (const base of new Set(['/dev/shm', tmpdir()])) {
    let entries: string[];
    try {
      entries = readdirSync(base).filter((entry) => entry.startsWith(workDirPrefix));
    } catch {
      continue;
    }
    for (const entry of entries) {
      const dir = join(base, entry);
      const ownerFile = join(dir, 'owner.pid');
      const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, 'utf8')) : Number.NaN;
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) continue;
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

