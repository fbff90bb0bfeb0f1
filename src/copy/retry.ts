/**
 * What the copy engine tries again after the transport has done what it can: a blob whose stream broke or whose
 * bytes did not hash to their digest, a manifest damaged in transit, a 5xx or 429 on an upload (whose streamed body
 * the transport cannot replay). Each attempt starts from scratch: a fresh GET, a fresh upload session.
 */
import { type ErrorCode, isMirrorhookError } from '../errors.js';
import { isRegistryError } from '../registry/failure.js';

const transientCodes: ReadonlySet<ErrorCode> = new Set(['MH_REGISTRY_UNREACHABLE', 'MH_REGISTRY_DIGEST_MISMATCH', 'MH_REGISTRY_RATE_LIMITED']);

/** Decided on the registry's status and our error code, never on message text. */
export function isTransient(error: unknown): boolean {
  if (isRegistryError(error) && error.code === 'MH_REGISTRY_HTTP') return error.status >= 500;
  if (isMirrorhookError(error)) return transientCodes.has(error.code);
  return true; // stream and socket errors from undici
}

export interface RetryOptions {
  readonly sleep: (ms: number) => Promise<void>;
  readonly signal?: AbortSignal | undefined;
  /** Attempts in all (default 4). */
  readonly attempts?: number;
  /** Called after a failed attempt that will be tried again (to undo its progress, say). */
  readonly onRetry?: () => void;
}

/** Runs `attempt` until it succeeds, fails for good, or the signal stops it; jittered exponential backoff between. */
export async function retryTransient<T>(attempt: (number: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const attempts = options.attempts ?? 4;
  for (let number = 1; ; number++) {
    try {
      return await attempt(number);
    } catch (error) {
      options.onRetry?.();
      if (number >= attempts || !isTransient(error) || options.signal?.aborted) throw error;
      await options.sleep(Math.min(8000, 250 * 2 ** number) * (0.5 + Math.random() / 2));
    }
  }
}
