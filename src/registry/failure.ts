/**
 * A registry's error answer, typed: the HTTP status and the registry's own error codes (the OCI distribution
 * spec's `errors[].code`: MANIFEST_UNKNOWN, BLOB_UNKNOWN, DENIED, TOOMANYREQUESTS…). Callers decide on these,
 * never on the message text, which is for people.
 */
import { type ErrorCode, MirrorhookError } from '../errors.js';
import type { HttpResponse } from './transport.js';

/** A MirrorhookError (MH_REGISTRY_ code) that a registry's HTTP answer caused. */
export class RegistryError extends MirrorhookError {
  /** The HTTP status the registry answered with. */
  readonly status: number;
  /** `errors[].code` of the registry's error body, in its order; empty when the body had none. */
  readonly registryCodes: readonly string[];

  constructor(code: ErrorCode, status: number, registryCodes: readonly string[], detail: string, options?: { cause?: unknown }) {
    super(code, detail, options);
    this.name = 'RegistryError';
    this.status = status;
    this.registryCodes = registryCodes;
  }
}

export function isRegistryError(error: unknown): error is RegistryError {
  return error instanceof RegistryError;
}

/** The catalog code for a registry's error status. */
export function registryErrorCode(status: number): ErrorCode {
  if (status === 404) return 'MH_REGISTRY_NOT_FOUND';
  if (status === 429) return 'MH_REGISTRY_RATE_LIMITED';
  if (status === 401 || status === 403) return 'MH_REGISTRY_UNAUTHORIZED';
  return 'MH_REGISTRY_HTTP';
}

/** Reads the registry's error body and throws the matching RegistryError. */
export async function failWith(response: HttpResponse, what: string): Promise<never> {
  let text = '';
  try {
    text = (await response.body.text()).slice(0, 2000);
  } catch {
    // the body is gone; the status says enough
  }
  const body = parseErrorBody(text);
  const status = response.statusCode;
  const message = `${what}: HTTP ${status}${body.detail === '' ? '' : ` ${body.detail}`}`;
  const code = registryErrorCode(status);
  throw new RegistryError(code, status, body.codes, code === 'MH_REGISTRY_RATE_LIMITED' ? `${message}; retries exhausted, try again later or authenticate` : message);
}

/** The codes and a one-line description of an error body: the spec's `{"errors": [...]}`, or the first line of text. */
export function parseErrorBody(text: string): { readonly codes: readonly string[]; readonly detail: string } {
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    if (Array.isArray(body.errors)) {
      const errors = body.errors.filter((entry): entry is { code?: unknown; message?: unknown } => typeof entry === 'object' && entry !== null);
      const codes = errors.flatMap((entry) => (typeof entry.code === 'string' && entry.code !== '' ? [entry.code] : []));
      const detail = errors
        .map((entry) => [entry.code, entry.message].filter((part): part is string => typeof part === 'string' && part !== '').join(': '))
        .join('; ');
      return { codes, detail };
    }
  } catch {
    // not JSON
  }
  return { codes: [], detail: text.trim().split('\n')[0]?.slice(0, 200) ?? '' };
}
