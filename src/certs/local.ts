/**
 * The serving pair of `mirrorhook serve` run without --cert/--key (ADR 0111). A set `certs generate` (or an earlier
 * `serve`) wrote next to the CA file is reused when it is good for local use; a set on disk that is not is left
 * exactly as it is; a fresh set is written only where no file exists, so a CA a client already trusts is never
 * replaced behind its back.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomically } from '../files/write-atomically.js';
import { certificateFileNames } from './files.js';
import { type CertificateOptions, type PemPair, generateCertificateSet } from './generate.js';

/** The names a local client uses: a reused certificate must cover each of them. */
export const localDnsNames = ['localhost'] as const;
export const localIpAddresses = ['127.0.0.1', '::1'] as const;

/** Less validity than this left and a pair on disk is not reused. */
const minimumRemainingMs = 24 * 3600 * 1000;

export type LocalServingPair =
  /** The files on disk: serve them (and re-read them when they change). */
  | { readonly kind: 'reused'; readonly certPath: string; readonly keyPath: string; readonly caPath: string }
  /** A fresh pair; its CA is at caPath (undefined: it could not be written anywhere). `kept` says why files on disk were not used. */
  | { readonly kind: 'generated'; readonly pair: PemPair; readonly ca: string; readonly caPath: string | undefined; readonly kept?: string; readonly writeError?: unknown };

export interface LocalServingPairOptions {
  /** Where the CA goes (`--ca-out`); tls.crt and tls.key live beside it. */
  readonly caPath: string;
  /** Names for a fresh certificate besides the local ones (this host's name). */
  readonly extraDnsNames?: readonly string[];
  readonly now?: Date;
  /** Where a fresh CA goes when caPath is taken by files that are not reused (default: a new folder under the OS temp dir). */
  readonly elsewhere?: () => Promise<string>;
}

export async function localServingPair(options: LocalServingPairOptions): Promise<LocalServingPair> {
  const caPath = options.caPath;
  const certPath = join(dirname(caPath), certificateFileNames.cert);
  const keyPath = join(dirname(caPath), certificateFileNames.key);
  const present = [caPath, certPath, keyPath].filter((path) => existsSync(path));
  let kept: string | undefined;
  if (present.length === 3) {
    try {
      const [ca, cert, key] = await Promise.all([caPath, certPath, keyPath].map((path) => readFile(path, 'utf8')));
      kept = reuseProblem({ ca: ca ?? '', cert: cert ?? '', key: key ?? '' }, { caPath, certPath, keyPath }, options.now ?? new Date());
    } catch (error) {
      kept = `cannot read ${(error as NodeJS.ErrnoException).path ?? caPath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
    }
    if (kept === undefined) return { kind: 'reused', certPath, keyPath, caPath };
  } else if (present.length > 0) {
    kept = `${present.join(' and ')} ${present.length === 1 ? 'exists' : 'exist'} without the rest of a set (ca.crt, tls.crt, tls.key)`;
  }
  const certificate: CertificateOptions = {
    service: 'mirrorhook',
    namespace: 'mirrorhook',
    dnsNames: [...localDnsNames, ...(options.extraDnsNames ?? [])],
    ipAddresses: [...localIpAddresses],
  };
  const set = generateCertificateSet(certificate);
  try {
    if (kept === undefined) {
      // Nothing there: write the whole set, so that the next start reuses it and the CA a client trusts stays.
      await mkdir(dirname(caPath), { recursive: true });
      await writeFileAtomically(keyPath, set.serving.key, { mode: 0o600 });
      await writeFileAtomically(certPath, set.serving.cert, { mode: 0o644 });
      await writeFileAtomically(caPath, set.ca.cert, { mode: 0o644 });
      return { kind: 'generated', pair: set.serving, ca: set.ca.cert, caPath };
    }
    const elsewhere = join(await (options.elsewhere ?? (() => mkdtemp(join(tmpdir(), 'mirrorhook-serve-'))))(), certificateFileNames.ca);
    await writeFileAtomically(elsewhere, set.ca.cert, { mode: 0o644 });
    return { kind: 'generated', pair: set.serving, ca: set.ca.cert, caPath: elsewhere, kept };
  } catch (error) {
    return { kind: 'generated', pair: set.serving, ca: set.ca.cert, caPath: undefined, ...(kept === undefined ? {} : { kept }), writeError: error };
  }
}

/** Why a set on disk is not served, or undefined when it is good: a matching key, signed by the CA, local names, time left. */
export function reuseProblem(set: { ca: string; cert: string; key: string }, paths: { caPath: string; certPath: string; keyPath: string }, now: Date): string | undefined {
  let ca: X509Certificate;
  let cert: X509Certificate;
  try {
    ca = new X509Certificate(set.ca);
    cert = new X509Certificate(set.cert);
    if (!cert.checkPrivateKey(createPrivateKey(set.key))) return `${paths.keyPath} does not belong to ${paths.certPath}`;
  } catch (error) {
    return `${paths.caPath}, ${paths.certPath} and ${paths.keyPath} are not a PEM certificate set (${error instanceof Error ? error.message : String(error)})`;
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return `${paths.certPath} is not signed by ${paths.caPath}`;
  const missing = [
    ...localDnsNames.filter((name) => cert.checkHost(name) === undefined),
    ...localIpAddresses.filter((ip) => cert.checkIP(ip) === undefined),
  ];
  if (missing.length > 0) return `${paths.certPath} does not cover ${missing.join(', ')}`;
  const notAfter = new Date(cert.validTo);
  if (new Date(cert.validFrom) > now) return `${paths.certPath} is not valid before ${new Date(cert.validFrom).toISOString()}`;
  if (notAfter.getTime() - now.getTime() < minimumRemainingMs) return `${paths.certPath} expires ${notAfter.toISOString()}`;
  return undefined;
}
