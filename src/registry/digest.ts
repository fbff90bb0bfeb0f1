/**
 * Content digests. Blobs are verified while they stream: `verifyingStream` hashes what passes through and fails
 * the stream, before it ends, when the digest or length is wrong, so a consumer that only commits on a clean end
 * (the blob upload) never commits bad content.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { MirrorhookError } from '../errors.js';

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The hash algorithm name node knows for a digest's algorithm, or undefined when we cannot verify it. */
export function digestAlgorithm(digest: string): 'sha256' | 'sha384' | 'sha512' | undefined {
  const algorithm = digest.slice(0, digest.indexOf(':'));
  return algorithm === 'sha256' || algorithm === 'sha384' || algorithm === 'sha512' ? algorithm : undefined;
}

/** Digest of `bytes` computed with `digest`'s algorithm, for comparison with it. */
export function digestWithAlgorithmOf(digest: string, bytes: Uint8Array): string {
  const algorithm = digestAlgorithm(digest) ?? 'sha256';
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/**
 * A pass-through that checks length and digest. Errors with MH_REGISTRY_DIGEST_MISMATCH as soon as more bytes than
 * `size` arrive, or at the end when the digest differs; `what` names the blob in the message.
 */
export function verifyingStream(digest: string, size: number | undefined, what: string, onBytes?: (bytes: number) => void): Transform {
  const algorithm = digestAlgorithm(digest);
  if (algorithm === undefined) {
    throw new MirrorhookError('MH_REGISTRY_DIGEST_MISMATCH', `${what}: cannot verify digest algorithm of ${digest}`);
  }
  const hash = createHash(algorithm);
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (size !== undefined && seen > size) {
        callback(new MirrorhookError('MH_REGISTRY_DIGEST_MISMATCH', `${what}: more than the ${size} bytes its descriptor declares`));
        return;
      }
      hash.update(chunk);
      onBytes?.(chunk.length);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      const actual = `${algorithm}:${hash.digest('hex')}`;
      if (size !== undefined && seen !== size) {
        callback(new MirrorhookError('MH_REGISTRY_DIGEST_MISMATCH', `${what}: got ${seen} bytes, descriptor says ${size}`));
      } else if (actual !== digest) {
        callback(new MirrorhookError('MH_REGISTRY_DIGEST_MISMATCH', `${what}: content hashes to ${actual}, expected ${digest}`));
      } else {
        callback();
      }
    },
  });
}
