import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MirrorhookError } from '../errors.js';
import { writeFileAtomically } from '../files/write-atomically.js';
import type { CertificateSet, PemPair } from './generate.js';

export const certificateFileNames = { ca: 'ca.crt', cert: 'tls.crt', key: 'tls.key' } as const;

/**
 * Writes ca.crt, tls.crt and tls.key into a folder. Each file is written beside its final name and renamed into
 * place, so a reader (the server's reload, a Secret sync) never sees half a file; the key is readable by its owner
 * only.
 */
export async function writeCertificateFiles(directory: string, set: CertificateSet): Promise<Record<keyof typeof certificateFileNames, string>> {
  const paths = {
    ca: join(directory, certificateFileNames.ca),
    cert: join(directory, certificateFileNames.cert),
    key: join(directory, certificateFileNames.key),
  };
  try {
    await mkdir(directory, { recursive: true });
    await writeFileAtomically(paths.key, set.serving.key, { mode: 0o600 });
    await writeFileAtomically(paths.cert, set.serving.cert, { mode: 0o644 });
    await writeFileAtomically(paths.ca, set.ca.cert, { mode: 0o644 });
  } catch (error) {
    throw new MirrorhookError('MH_CERT_WRITE', `${directory}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  return paths;
}


/** Reads a serving certificate and key, and checks that they are PEM and belong together. */
export async function readServingPair(certPath: string, keyPath: string): Promise<PemPair> {
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  } catch (error) {
    const failed = (error as NodeJS.ErrnoException).path ?? `${certPath} or ${keyPath}`;
    throw new MirrorhookError('MH_CERT_READ', `${failed}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  checkServingPair({ cert, key }, certPath);
  return { cert, key };
}

export function checkServingPair(pair: PemPair, origin: string): void {
  try {
    const certificate = new X509Certificate(pair.cert);
    if (!certificate.checkPrivateKey(createPrivateKey(pair.key))) {
      throw new MirrorhookError('MH_CERT_INVALID', `${origin}: the key does not belong to the certificate`);
    }
  } catch (error) {
    if (error instanceof MirrorhookError) throw error;
    throw new MirrorhookError('MH_CERT_INVALID', `${origin}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
