/**
 * The pure half of tag listing (`GET /v2/<name>/tags/list`): reading one page, and finding the next page in the
 * `Link` header (RFC 8288, `<url>; rel="next"`) the way the distribution spec paginates.
 */
import { MirrorhookError } from '../errors.js';

/** The tags of one page; a registry answers `"tags": null` for a repository without tags. */
export function parseTagPage(text: string, what: string): string[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new MirrorhookError('MH_REGISTRY_HTTP', `${what}: the tag list is not JSON`);
  }
  const tags = (body as { tags?: unknown } | null)?.tags;
  if (tags === null || tags === undefined) return [];
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) {
    throw new MirrorhookError('MH_REGISTRY_HTTP', `${what}: the tag list has no "tags" array of strings`);
  }
  return tags;
}

/**
 * The absolute URL of the next page, or undefined on the last page. The link is resolved against the page's own
 * URL; one that leaves the registry's origin is refused, because our credentials would follow it there.
 */
export function nextPageUrl(link: string | undefined, pageUrl: string, what: string): string | undefined {
  if (link === undefined) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (match === null) continue;
    const params = match[2] ?? '';
    if (!/;\s*rel\s*=\s*"?(?:[^";]*\s)?next(?:\s[^";]*)?"?\s*(?:;|$)/i.test(params)) continue;
    const next = new URL(match[1] ?? '', pageUrl);
    if (next.origin !== new URL(pageUrl).origin) {
      throw new MirrorhookError('MH_REGISTRY_HTTP', `${what}: the next page of tags is on another host (${next.origin}); not following it with our credentials`);
    }
    return next.toString();
  }
  return undefined;
}
