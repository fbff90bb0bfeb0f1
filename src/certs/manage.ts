/**
 * Self-managed certificates (`serve --manage-certs`): the webhook keeps its own CA and serving certificate in a
 * Secret, keeps the caBundle of its MutatingWebhookConfiguration in step, and rotates before expiry without a
 * failed admission.
 *
 * - Every replica calls `check()` periodically: it reads the Secret and, when something is missing or due, the
 *   replica holding the Lease `<secret>-rotation` writes the next state; the others wait for it. All replicas
 *   serve the pair in the Secret, so they agree on one certificate.
 * - A serving certificate is renewed when a third of its lifetime is left, signed by the same CA: the caBundle
 *   does not change, so the API server trusts the new certificate at once.
 * - The CA is renewed when less than two serving lifetimes are left. The new CA joins the caBundle next to the
 *   old one first; serving certificates are signed by it only after `overlapSeconds`, when every API server has
 *   seen the new bundle. The old CA leaves the bundle when it expires.
 * - The caBundle is written before the Secret: nothing is ever served that the API server does not yet trust.
 */
import { X509Certificate } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { describeError } from '../errors.js';
import type { LeaseLock } from '../kube/lease.js';
import { type CertificateOptions, type PemPair, generateCertificateAuthority, issueServingCertificate } from './generate.js';
import { injectCaBundle } from './inject.js';

export interface ManagedCertificatesOptions {
  readonly core: k8s.CoreV1Api;
  readonly admission: k8s.AdmissionregistrationV1Api;
  readonly lock: LeaseLock;
  readonly namespace: string;
  readonly secretName: string;
  readonly webhookConfigurationName: string;
  /** Service name and extra names/IPs for the serving certificate. */
  readonly certificate: Omit<CertificateOptions, 'namespace' | 'validityDays' | 'validitySeconds' | 'now'>;
  readonly servingValiditySeconds: number;
  /** How long a new CA sits in the caBundle before it signs anything (default: a tenth of the serving lifetime, 5 s at least). */
  readonly overlapSeconds?: number;
  readonly now?: () => Date;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

/** What the Secret holds. */
export interface CertificateState {
  readonly ca: PemPair;
  readonly previousCa: PemPair | undefined;
  /** When `ca` joined the caBundle. */
  readonly caSince: Date;
  readonly serving: PemPair;
}

const keys = {
  caCert: 'ca-current.crt',
  caKey: 'ca.key',
  previousCaCert: 'ca-previous.crt',
  previousCaKey: 'ca-previous.key',
  bundle: 'ca.crt',
  cert: 'tls.crt',
  key: 'tls.key',
} as const;
const caSinceAnnotation = 'mirrorhook.io/ca-since';

export class ManagedCertificates {
  readonly #options: ManagedCertificatesOptions;
  readonly #now: () => Date;
  readonly #log: NonNullable<ManagedCertificatesOptions['log']>;

  constructor(options: ManagedCertificatesOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.#log = options.log ?? (() => undefined);
  }

  /**
   * Makes sure the Secret holds a current state (writing one if this replica holds the rotation Lease) and that
   * the caBundle carries its CAs. Returns the serving pair to use, or undefined when none exists yet (another
   * replica is creating it).
   */
  async check(): Promise<PemPair | undefined> {
    const { secret, state } = await this.#read();
    if (state !== undefined && !this.#due(state)) {
      await this.#ensureBundle(state);
      return state.serving;
    }
    const result = await this.#options.lock.withLease(`${this.#options.secretName}-rotation`, {}, async () => {
      // Read again under the Lease: another replica may have just written it.
      const fresh = await this.#read();
      const next = this.#next(fresh.state);
      if (next === fresh.state) {
        await this.#ensureBundle(next);
        return next;
      }
      await this.#ensureBundle(next);
      await this.#write(next, fresh.secret);
      this.#log('certificates written', {
        secret: this.#options.secretName,
        servingNotAfter: notAfter(next.serving.cert).toISOString(),
        caNotAfter: notAfter(next.ca.cert).toISOString(),
        previousCa: next.previousCa !== undefined,
      });
      return next;
    });
    if (result.ran) return result.value.serving;
    return (state ?? (secret === undefined ? undefined : (await this.#read()).state))?.serving;
  }

  /** The caBundle PEM for a state: current CA, then the previous one while it is valid. */
  static bundle(state: CertificateState): string {
    return state.previousCa === undefined ? state.ca.cert : `${state.ca.cert.trimEnd()}\n${state.previousCa.cert}`;
  }

  #due(state: CertificateState): boolean {
    const plan = this.#plan(state);
    return plan.dropPrevious || plan.rollCa || plan.reissue;
  }

  /** What is due for a state, decided without generating anything. */
  #plan(state: CertificateState): { dropPrevious: boolean; rollCa: boolean; reissue: boolean; signer: 'current' | 'previous' } {
    const now = this.#now().getTime();
    const serving = this.#options.servingValiditySeconds * 1000;
    const overlapMs = (this.#options.overlapSeconds ?? Math.max(5, this.#options.servingValiditySeconds / 10)) * 1000;
    // Drop a previous CA once it has expired: nothing it signed is valid any more.
    const dropPrevious = state.previousCa !== undefined && notAfter(state.previousCa.cert).getTime() <= now;
    const previous = dropPrevious ? undefined : state.previousCa;
    // Roll the CA well before it expires; the old one stays in the bundle and keeps signing for a while.
    const rollCa = previous === undefined && notAfter(state.ca.cert).getTime() - now < 2 * serving;
    const caSince = rollCa ? now : state.caSince.getTime();
    const hasPrevious = rollCa || previous !== undefined;
    const signer = hasPrevious && now - caSince < overlapMs ? 'previous' : 'current';
    const signerCert = signer === 'previous' ? (rollCa ? state.ca.cert : (previous?.cert ?? state.ca.cert)) : rollCa ? undefined : state.ca.cert;
    const signedBySigner = signerCert !== undefined && new X509Certificate(state.serving.cert).checkIssued(new X509Certificate(signerCert));
    const reissue = notAfter(state.serving.cert).getTime() - now < serving / 3 || !signedBySigner;
    return { dropPrevious, rollCa, reissue, signer };
  }

  /** The state to write next, or the same object when nothing is due. */
  #next(state: CertificateState | undefined): CertificateState {
    const now = this.#now();
    const serving = this.#options.servingValiditySeconds;
    const caOptions = { namespace: this.#options.namespace, validitySeconds: serving * 10, now };
    const servingOptions = { ...this.#options.certificate, namespace: this.#options.namespace, now, validitySeconds: serving };
    if (state === undefined) {
      const ca = generateCertificateAuthority(caOptions);
      return { ca, previousCa: undefined, caSince: now, serving: issueServingCertificate(ca, servingOptions) };
    }
    const plan = this.#plan(state);
    if (!plan.dropPrevious && !plan.rollCa && !plan.reissue) return state;
    let next: CertificateState = plan.dropPrevious ? { ...state, previousCa: undefined } : state;
    if (plan.rollCa) next = { ...next, ca: generateCertificateAuthority(caOptions), previousCa: next.ca, caSince: now };
    if (plan.reissue) {
      const signer = plan.signer === 'previous' && next.previousCa !== undefined ? next.previousCa : next.ca;
      next = { ...next, serving: issueServingCertificate(signer, servingOptions) };
    }
    return next;
  }

  async #ensureBundle(state: CertificateState): Promise<void> {
    try {
      await injectCaBundle(this.#options.admission, this.#options.webhookConfigurationName, ManagedCertificates.bundle(state));
    } catch (error) {
      // Not fatal for serving: the configuration may not be applied yet; the next check tries again.
      this.#log('cannot update the caBundle yet', { webhook: this.#options.webhookConfigurationName, error: describeError(error) });
    }
  }

  async #read(): Promise<{ secret: k8s.V1Secret | undefined; state: CertificateState | undefined }> {
    let secret: k8s.V1Secret;
    try {
      secret = await this.#options.core.readNamespacedSecret({ name: this.#options.secretName, namespace: this.#options.namespace });
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return { secret: undefined, state: undefined };
      throw error;
    }
    const data = secret.data ?? {};
    const text = (key: string): string | undefined => (data[key] === undefined ? undefined : Buffer.from(data[key], 'base64').toString('utf8'));
    const [caCert, caKey, cert, key] = [text(keys.caCert), text(keys.caKey), text(keys.cert), text(keys.key)];
    if (caCert === undefined || caKey === undefined || cert === undefined || key === undefined) return { secret, state: undefined };
    const previousCert = text(keys.previousCaCert);
    const previousKey = text(keys.previousCaKey);
    const since = secret.metadata?.annotations?.[caSinceAnnotation];
    return {
      secret,
      state: {
        ca: { cert: caCert, key: caKey },
        previousCa: previousCert !== undefined && previousKey !== undefined ? { cert: previousCert, key: previousKey } : undefined,
        caSince: since === undefined ? new Date(0) : new Date(since),
        serving: { cert, key },
      },
    };
  }

  async #write(state: CertificateState, existing: k8s.V1Secret | undefined): Promise<void> {
    const encode = (value: string): string => Buffer.from(value).toString('base64');
    const data: Record<string, string> = {
      [keys.caCert]: encode(state.ca.cert),
      [keys.caKey]: encode(state.ca.key),
      [keys.bundle]: encode(ManagedCertificates.bundle(state)),
      [keys.cert]: encode(state.serving.cert),
      [keys.key]: encode(state.serving.key),
    };
    if (state.previousCa !== undefined) {
      data[keys.previousCaCert] = encode(state.previousCa.cert);
      data[keys.previousCaKey] = encode(state.previousCa.key);
    }
    const metadata: k8s.V1ObjectMeta = {
      name: this.#options.secretName,
      namespace: this.#options.namespace,
      annotations: { ...existing?.metadata?.annotations, [caSinceAnnotation]: state.caSince.toISOString() },
      labels: { 'app.kubernetes.io/managed-by': 'mirrorhook' },
    };
    if (existing === undefined) {
      await this.#options.core.createNamespacedSecret({ namespace: this.#options.namespace, body: { metadata, type: 'Opaque', data } });
    } else {
      await this.#options.core.replaceNamespacedSecret({
        name: this.#options.secretName,
        namespace: this.#options.namespace,
        body: { metadata: { ...metadata, resourceVersion: existing.metadata?.resourceVersion }, type: existing.type ?? 'Opaque', data },
      });
    }
  }
}

function notAfter(certPem: string): Date {
  return new Date(new X509Certificate(certPem).validTo);
}
