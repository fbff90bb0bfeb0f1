/**
 * The e2e harness: what every test against the real API server uses. Stable exports; add, don't rename.
 *
 * global-setup.ts starts one control plane for the whole e2e run (etcd, kube-apiserver and
 * kube-controller-manager of the pinned version in test/e2e/kube/, loopback, certificates of this run) and stops
 * it after the last file. Files run one after another against it; give each test its own namespace.
 *
 *   import { kubeConfig, createNamespace, waitFor } from './harness.js';
 *
 *   kubeConfigPath(): string        kubeconfig file of a super-user (client certificate in group system:masters);
 *                                   hand it to a mirrorhook process with --kubeconfig / KUBECONFIG.
 *   kubeConfig(): KubeConfig        the same, loaded (@kubernetes/client-node); makeApiClient(k8s.CoreV1Api) etc.
 *   controlPlane(): ControlPlaneInfo  { kubeconfigPath, apiServerUrl, caCertPath, workDir, binDir, kubernetesVersion,
 *                                   auditLogPath, serviceClusterIpRange }; Service ClusterIPs are loopback addresses,
 *                                   so a process listening on ClusterIP:port receives the API server's calls to a
 *                                   webhook configured by `clientConfig.service` (test/e2e/helm.test.ts)
 *   auditEvents(filter): Promise<AuditEvent[]>
 *                                   the API server's audit events so far (level Metadata; Pods and
 *                                   pods/ephemeralcontainers, deletions and reads of MutatingWebhookConfigurations,
 *                                   deletions of Services)
 *                                   that match filter, e.g. to read webhooks' auditAnnotations or who deleted what
 *                                   when; combine with waitFor, the log is written asynchronously.
 *   createNamespace(labels?, prefix?): Promise<string>
 *                                   a new namespace with a unique name (prefix "e2e-") and these labels, whose
 *                                   `default` ServiceAccount exists, so Pods can be created in it right away.
 *   waitFor(description, probe, { timeoutMs = 60 s, intervalMs = 250 }?): Promise<T>
 *                                   calls probe until it returns a value other than undefined/false and returns that
 *                                   value; errors thrown by probe count as "not yet". On timeout it throws with the
 *                                   description and the last error.
 *   kubectl(args, { input? }?): Promise<{ code, stdout, stderr }>
 *                                   runs the pinned kubectl (built with the API server) with the super-user kubeconfig.
 *   asUser(user): KubeConfig        the super-user's kubeconfig impersonating `user` (Impersonate-User header); the API
 *                                   server adds a service account's groups (system:serviceaccounts[:ns]) itself.
 *   canI(user, verb, resource, { namespace?, subresource?, group?, name? }?): Promise<boolean>
 *                                   whether `user` (e.g. system:serviceaccount:ns:name) may do it: a
 *                                   SelfSubjectAccessReview impersonating the user, as `kubectl auth can-i --as` does.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { inject } from 'vitest';
import type { ControlPlaneInfo } from './control-plane.js';

export type { ControlPlaneInfo } from './control-plane.js';

export function controlPlane(): ControlPlaneInfo {
  const info = inject('e2eControlPlane');
  if (info === undefined) {
    throw new Error('e2e: no control plane: run the e2e project (npm run test:e2e), whose global setup starts it');
  }
  return info;
}

export function kubeConfigPath(): string {
  return controlPlane().kubeconfigPath;
}

export function kubeConfig(): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromFile(kubeConfigPath());
  return config;
}

/** A fresh namespace, ready for Pods (its `default` ServiceAccount exists). Returns its name. */
export async function createNamespace(labels: Record<string, string> = {}, prefix = 'e2e-'): Promise<string> {
  const config = kubeConfig();
  const core = config.makeApiClient(k8s.CoreV1Api);
  const name = `${prefix}${randomBytes(4).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name, labels } } });
  // The controller manager creates `default` soon; creating it here first makes Pods admissible at once.
  try {
    await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'default' } } });
  } catch (error) {
    if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
  }
  return name;
}

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/** Polls probe until it yields a value (anything but undefined or false) and returns it. */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`e2e: timed out after ${timeoutMs / 1000}s waiting for ${description}${reason}`);
    }
    await new Promise((resolveSleep) => setTimeout(resolveSleep, intervalMs));
  }
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the pinned kubectl against the e2e API server as the super-user. */
export function kubectl(args: readonly string[], options: { input?: string } = {}): Promise<CommandResult> {
  const binary = join(controlPlane().binDir, 'kubectl');
  return new Promise((resolveRun, reject) => {
    const child = execFile(
      binary,
      [`--kubeconfig=${kubeConfigPath()}`, ...args],
      { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, KUBECTL_KUBERC: 'false' } },
      (error, stdout, stderr) => {
        if (error === null) resolveRun({ code: 0, stdout, stderr });
        else if (typeof error.code === 'number') resolveRun({ code: error.code, stdout, stderr });
        else reject(new Error(`e2e: kubectl could not run: ${error.message}`, { cause: error }));
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** The super-user's kubeconfig, impersonating `user`. */
export function asUser(user: string): k8s.KubeConfig {
  const admin = kubeConfig();
  const impersonating = new k8s.KubeConfig();
  impersonating.loadFromOptions({
    clusters: admin.clusters,
    contexts: admin.contexts,
    currentContext: admin.currentContext,
    users: admin.users.map((entry) => ({ ...entry, impersonateUser: user })),
  });
  return impersonating;
}

export interface AccessQuestion {
  readonly namespace?: string;
  readonly subresource?: string;
  /** API group of the resource ('' for the core group). */
  readonly group?: string;
  readonly name?: string;
}

/**
 * Whether `user` may `verb` the `resource`: a SelfSubjectAccessReview sent while impersonating `user`, which is what
 * `kubectl auth can-i --as USER` does. The API server adds a service account's groups to the impersonated user.
 */
export async function canI(user: string, verb: string, resource: string, question: AccessQuestion = {}): Promise<boolean> {
  const review = await asUser(user).makeApiClient(k8s.AuthorizationV1Api).createSelfSubjectAccessReview({
    body: {
      spec: {
        resourceAttributes: {
          verb,
          resource,
          group: question.group ?? '',
          ...(question.namespace === undefined ? {} : { namespace: question.namespace }),
          ...(question.subresource === undefined ? {} : { subresource: question.subresource }),
          ...(question.name === undefined ? {} : { name: question.name }),
        },
      },
    },
  });
  return review.status?.allowed === true;
}

/** One line of the API server's audit log (the fields tests read). */
export interface AuditEvent {
  readonly stage: string;
  readonly verb: string;
  readonly objectRef?: { readonly resource?: string; readonly subresource?: string; readonly namespace?: string; readonly name?: string };
  readonly annotations?: Record<string, string>;
  readonly responseStatus?: { readonly code?: number };
  readonly user?: { readonly username?: string };
  /** RFC 3339 with microseconds, UTC: fixed width, so these compare as strings. */
  readonly requestReceivedTimestamp?: string;
  readonly stageTimestamp?: string;
}

/** Audit events logged so far that match the filter. */
export async function auditEvents(filter: (event: AuditEvent) => boolean): Promise<AuditEvent[]> {
  const text = await readFile(controlPlane().auditLogPath, 'utf8').catch(() => '');
  const events: AuditEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line) as AuditEvent);
    } catch {
      // The line being written right now; the next read has it whole.
    }
  }
  return events.filter(filter);
}
