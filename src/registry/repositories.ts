/** The pure half of catalog listing (`GET /v2/_catalog`): one page of repository names. Pages link like tag lists. */
import { MirrorhookError } from '../errors.js';

export function parseRepositoryPage(text: string, what: string): string[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new MirrorhookError('MH_REGISTRY_HTTP', `${what} is not JSON`);
  }
  const repositories = (body as { repositories?: unknown } | null)?.repositories;
  if (repositories === null || repositories === undefined) return [];
  if (!Array.isArray(repositories) || !repositories.every((name) => typeof name === 'string')) {
    throw new MirrorhookError('MH_REGISTRY_HTTP', `${what} has no "repositories" array of strings`);
  }
  return repositories;
}
