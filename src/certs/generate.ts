import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

/**
 * Certificate authority and serving certificates for the webhook. Keys come from Node's crypto (fast, native);
 * node-forge builds and signs the X.509 structures. Everything here is pure apart from key randomness.
 */

export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

export interface CertificateSet {
  readonly ca: PemPair;
  readonly serving: PemPair;
}

export interface CertificateOptions {
  /** Service name and namespace: the serving certificate covers svc, svc.ns, svc.ns.svc, svc.ns.svc.cluster.local. */
  readonly service: string;
  readonly namespace: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly validityDays?: number;
  /** Validity in seconds; overrides validityDays (short-lived certificates in tests). */
  readonly validitySeconds?: number;
  readonly now?: Date;
}

export const defaultValidityDays = 365;

/** The DNS names the API server may use to reach the webhook's Service. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

export function generateCertificateSet(options: CertificateOptions): CertificateSet {
  const ca = generateCertificateAuthority(options);
  return { ca, serving: issueServingCertificate(ca, options) };
}

/** A CA for the webhook's serving certificates. */
export function generateCertificateAuthority(options: Pick<CertificateOptions, 'namespace' | 'validityDays' | 'validitySeconds' | 'now'>): PemPair {
  const { notBefore, notAfter } = validity(options);
  const caKeys = newKeyPair();
  const caSubject = [
    { name: 'commonName', value: `mirrorhook-ca.${options.namespace}.${notBefore.getTime().toString(36)}` },
    { name: 'organizationName', value: 'mirrorhook' },
  ];
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serialNumber();
  ca.validity.notBefore = notBefore;
  ca.validity.notAfter = notAfter;
  ca.setSubject(caSubject);
  ca.setIssuer(caSubject);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true, pathLenConstraint: 0 },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(ca), key: caKeys.privateKeyPem };
}

/** A serving certificate for the Service names (and extras), signed by `ca`. */
export function issueServingCertificate(caPair: PemPair, options: CertificateOptions): PemPair {
  const { notBefore, notAfter } = validity(options);
  const ca = forge.pki.certificateFromPem(caPair.cert);
  const caKey = forge.pki.privateKeyFromPem(caPair.key);
  const dnsNames = unique([...serviceDnsNames(options.service, options.namespace), ...(options.dnsNames ?? [])]);
  const ipAddresses = unique([...(options.ipAddresses ?? [])]);
  for (const ip of ipAddresses) {
    if (isIP(ip) === 0) throw new TypeError(`"${ip}" is not an IP address`);
  }
  const servingKeys = newKeyPair();
  const serving = forge.pki.createCertificate();
  serving.publicKey = servingKeys.publicKey;
  serving.serialNumber = serialNumber();
  serving.validity.notBefore = notBefore;
  // Never outlive the CA that signs it.
  serving.validity.notAfter = notAfter.getTime() > ca.validity.notAfter.getTime() ? ca.validity.notAfter : notAfter;
  serving.setSubject([{ name: 'commonName', value: `${options.service}.${options.namespace}.svc` }]);
  serving.setIssuer(ca.subject.attributes);
  serving.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...dnsNames.map((value) => ({ type: 2, value })),
        ...ipAddresses.map((ip) => ({ type: 7, ip })),
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  serving.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(serving), key: servingKeys.privateKeyPem };
}

function validity(options: Pick<CertificateOptions, 'validityDays' | 'validitySeconds' | 'now'>): { notBefore: Date; notAfter: Date } {
  const now = options.now ?? new Date();
  const lifetimeMs = (options.validitySeconds ?? (options.validityDays ?? defaultValidityDays) * 86_400) * 1000;
  return { notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + lifetimeMs) };
}

/** When a PEM certificate stops being valid. */
export function certificateNotAfter(certPem: string): Date {
  return forge.pki.certificateFromPem(certPem).validity.notAfter;
}

function newKeyPair(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey),
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    privateKeyPem: privateKey,
  };
}

function serialNumber(): string {
  // Positive 128-bit serial: clear the top bit so DER does not read it as negative.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
