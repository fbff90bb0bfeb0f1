/**
 * mirrorhook as the API server meets it: `node dist/cli/main.js serve` as a local process on loopback, with a CA
 * and serving certificate of its own, and the MutatingWebhookConfiguration that points the API server at it.
 *
 *   const hook = await startMirrorhook({ config: { mirror: { registry: 'mirror.e2e.test/m' }, swap: 'always', copy: 'none' } });
 *   await applyWebhookConfiguration(webhookConfiguration('mirrorhook-e2e', hook.url, hook.caPem));
 *   ...
 *   await hook.stop();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { repoRoot, freePorts } from './control-plane.js';
import { kubeConfig, waitFor } from './harness.js';
import { type KeyPair, createCertificateAuthority, issueCertificate } from './pki.js';

export const mirrorhookCli = join(repoRoot, 'dist/cli/main.js');

export interface MirrorhookProcess {
  /** `https://HOST:PORT` (HOST: 127.0.0.1 unless options.host) */
  readonly url: string;
  readonly port: number;
  /** The CA that signed its serving certificate: the webhook configuration's caBundle. */
  readonly caPem: string;
  /** Everything it printed so far (stdout and stderr), for assertions on logs and for failure messages. */
  output(): string;
  /** Kills it (SIGKILL) and removes its files: test teardown, or a crash. */
  stop(): Promise<void>;
  /**
   * Sends SIGTERM as the kubelet does and waits up to graceMs (the Pod's terminationGracePeriodSeconds) for it to
   * exit; then kills it anyway. Says whether it exited in time.
   */
  terminate(graceMs: number): Promise<{ exitedInTime: boolean; exit: string }>;
}

export interface MirrorhookOptions {
  /** Written to a file and passed with --config; omitted = the built-in default configuration. */
  readonly config?: unknown;
  /** Listen on this loopback address (e.g. a Service's ClusterIP, see ControlPlaneInfo); default 127.0.0.1. */
  readonly host?: string;
  /**
   * The name its readiness check verifies the certificate against (as the API server verifies NAME.NS.svc for a
   * Service-backed webhook); default: the host address.
   */
  readonly serverName?: string;
  /** Listen on this port (to restart on the same URL); default: a free one. */
  readonly port?: number;
  /** Reuse a certificate authority (to restart with the caBundle already registered). */
  readonly ca?: KeyPair;
  /** Serve these files (e.g. from `mirrorhook certs generate`) instead of a pair issued here; caPem is their CA. */
  readonly serving?: { readonly certFile: string; readonly keyFile: string; readonly caPem: string };
}

/** Starts `mirrorhook serve` and waits until /readyz answers over TLS with its CA. */
export async function startMirrorhook(options: MirrorhookOptions = {}): Promise<MirrorhookProcess & { readonly ca: KeyPair | undefined }> {
  const dir = await mkdtemp(join(tmpdir(), 'mirrorhook-e2e-serve-'));
  let ca: KeyPair | undefined;
  let files = options.serving;
  if (files === undefined) {
    ca = options.ca ?? createCertificateAuthority('mirrorhook-e2e-webhook-ca');
    const serving = issueCertificate(ca, { commonName: '127.0.0.1', usage: 'server', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] });
    files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), caPem: ca.cert };
    await writeFile(files.certFile, serving.cert);
    await writeFile(files.keyFile, serving.key, { mode: 0o600 });
  }
  const caPem = files.caPem;
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePorts(1))[0] ?? 0;
  const args = [mirrorhookCli, 'serve', '--host', host, '--port', String(port), '--cert', files.certFile, '--key', files.keyFile];
  // Stop at once on SIGTERM: no load balancer here to drain from.
  args.push('--shutdown-delay', '0');
  if (options.config !== undefined) {
    await writeFile(join(dir, 'mirrorhook.yaml'), stringify(options.config));
    args.push('--config', join(dir, 'mirrorhook.yaml'));
  }
  let output = '';
  const child: ChildProcess = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  let exit: string | undefined;
  // A test worker that ends without its afterAll (a crash, an interrupted run) takes the process with it.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exit = signal === null ? `exited with code ${String(code)}` : `killed by ${signal}`;
      process.off('exit', killOnExit);
      resolveExit();
    });
  });
  const waitExit = (ms: number): Promise<boolean> =>
    Promise.race([exited.then(() => true), new Promise<boolean>((resolveWait) => setTimeout(() => resolveWait(false), ms))]);
  const stop = async (): Promise<void> => {
    if (exit === undefined) child.kill('SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const terminate = async (graceMs: number): Promise<{ exitedInTime: boolean; exit: string }> => {
    if (exit === undefined) child.kill('SIGTERM');
    const exitedInTime = await waitExit(graceMs);
    await stop();
    return { exitedInTime, exit: exit ?? 'unknown' };
  };
  const url = `https://${host}:${port}`;
  try {
    await waitFor(`mirrorhook serve on ${url}/readyz`, async () => {
      if (exit !== undefined) throw new Error(`mirrorhook serve ${exit}:\n${output.slice(-3000)}`);
      return (await httpsStatus(`${url}/readyz`, caPem, options.serverName)) === 200;
    }, { timeoutMs: 30_000 });
  } catch (error) {
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- mirrorhook output ---\n${output.slice(-3000)}`);
  }
  return { url, port, caPem, ca, output: () => output, stop, terminate };
}

function httpsStatus(url: string, caPem: string, serverName?: string): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const req = httpsRequest(url, { ca: caPem, timeout: 2000, ...(serverName === undefined ? {} : { servername: serverName }) }, (response) => {
      response.resume();
      resolveStatus(response.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

export const modeLabel = 'mirrorhook.io/mode';

export const deployWebhookConfigurationFile = join(repoRoot, 'deploy/base/mutatingwebhookconfiguration.yaml');

/**
 * deploy/'s MutatingWebhookConfiguration as it is, renamed, with `url: URL/<its path>` in place of the Service
 * and caBundle set: the selectors, rules, failure policy, side effects, reinvocation and timeout under test are
 * the ones users install. timeoutSeconds overrides deploy's (tests of the timeout itself).
 */
export function webhookConfiguration(name: string, url: string, caPem: string, timeoutSeconds?: number): k8s.V1MutatingWebhookConfiguration {
  const deployed = parse(readFileSync(deployWebhookConfigurationFile, 'utf8')) as k8s.V1MutatingWebhookConfiguration;
  const caBundle = Buffer.from(caPem).toString('base64');
  const webhooks = (deployed.webhooks ?? []).map((webhook): k8s.V1MutatingWebhook => {
    const path = webhook.clientConfig.service?.path;
    if (path === undefined) throw new Error(`${deployWebhookConfigurationFile}: webhook ${webhook.name} has no service path`);
    return {
      ...webhook,
      clientConfig: { url: `${url}${path}`, caBundle },
      ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
    };
  });
  if (webhooks.length === 0) throw new Error(`${deployWebhookConfigurationFile} has no webhooks`);
  return { apiVersion: deployed.apiVersion, kind: deployed.kind, metadata: { name }, webhooks };
}

/**
 * Creates (or replaces) a webhook configuration, then waits until the API server calls it: the admission plugin
 * picks configurations up from an informer, so a Pod created right after the write may not see it yet.
 */
export async function applyWebhookConfiguration(
  configuration: k8s.V1MutatingWebhookConfiguration,
  isActive: () => Promise<boolean>,
): Promise<void> {
  const api = kubeConfig().makeApiClient(k8s.AdmissionregistrationV1Api);
  const name = configuration.metadata?.name ?? '';
  try {
    const current = await api.readMutatingWebhookConfiguration({ name });
    await api.replaceMutatingWebhookConfiguration({
      name,
      body: { ...configuration, metadata: { ...configuration.metadata, resourceVersion: current.metadata?.resourceVersion } },
    });
  } catch (error) {
    if (!(error instanceof k8s.ApiException && error.code === 404)) throw error;
    await api.createMutatingWebhookConfiguration({ body: configuration });
  }
  await waitFor(`webhook configuration ${name} in effect`, isActive, { timeoutMs: 30_000, intervalMs: 300 });
}

export async function deleteWebhookConfiguration(name: string): Promise<void> {
  const api = kubeConfig().makeApiClient(k8s.AdmissionregistrationV1Api);
  try {
    await api.deleteMutatingWebhookConfiguration({ name });
  } catch (error) {
    if (!(error instanceof k8s.ApiException && error.code === 404)) throw error;
  }
}

/** Runs one mirrorhook command to completion (`node dist/cli/main.js ARGS`). */
export function runMirrorhook(args: readonly string[], cwd: string = repoRoot): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [mirrorhookCli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
  });
}
