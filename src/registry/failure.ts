/** A registry's error answer as a MirrorhookError with an MH_REGISTRY_ code (status and the registry's own codes). */
import { MirrorhookError } from '../errors.js';
import type { HttpResponse } from './transport.js';

/** Reads the registry's error body and throws the matching MirrorhookError. */
export async function failWith(response: HttpResponse, what: string): Promise<never> {
  let text = '';
  try {
    text = (await response.body.text()).slice(0, 2000);
  } catch {
    // the body is gone; the status says enough
  }
  const detail = registryErrorDetail(text);
  const status = response.statusCode;
  const message = `${what}: HTTP ${status}${detail === '' ? '' : ` ${detail}`}`;
  if (status === 404) throw new MirrorhookError('MH_REGISTRY_NOT_FOUND', message);
  if (status === 429) throw new MirrorhookError('MH_REGISTRY_RATE_LIMITED', `${message}; retries exhausted, try again later or authenticate`);
  if (status === 401 || status === 403) throw new MirrorhookError('MH_REGISTRY_UNAUTHORIZED', message);
  throw new MirrorhookError('MH_REGISTRY_HTTP', message);
}

function registryErrorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(body.errors)) {
      return body.errors.map((error) => [error.code, error.message].filter(Boolean).join(': ')).join('; ');
    }
  } catch {
    // not JSON
  }
  return text.trim().split('\n')[0]?.slice(0, 200) ?? '';
}
