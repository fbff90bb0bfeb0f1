import { MirrorhookError } from '../errors.js';
import { anchoredDomain, anchoredPath } from '../reference/grammar.js';

/** The mirror named by `mirror.registry`: a registry host and an optional path prefix inside it. */
export interface MirrorRegistry {
  /** `us-docker.pkg.dev`, `localhost:5000`. */
  readonly domain: string;
  /** `my-project/mirror`, or '' when images go at the registry's root. */
  readonly prefix: string;
}

/**
 * Parses `host[:port][/path]`. Unlike an image reference, the first part is always the host, even without a dot
 * (`registry:5000`, `harbor/mirror` means host `harbor`).
 */
export function parseMirrorRegistry(text: string): MirrorRegistry {
  const trimmed = text.replace(/\/+$/, '');
  if (trimmed.length === 0) throw new MirrorhookError('MH_CONFIG_INVALID', 'the mirror registry is empty');
  // A repository name (host and path included) is at most 255 characters, so a longer mirror can hold nothing.
  if (trimmed.length > 255) throw new MirrorhookError('MH_CONFIG_INVALID', `the mirror registry is ${trimmed.length} characters: over the limit of 255 for a whole name`);
  if (/^[a-z]+:\/\//i.test(trimmed)) {
    throw new MirrorhookError('MH_CONFIG_INVALID', `"${text}": write host[:port][/path] without a scheme (set mirror.insecure for plain HTTP)`);
  }
  const slash = trimmed.indexOf('/');
  const domain = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const prefix = slash === -1 ? '' : trimmed.slice(slash + 1);
  if (!anchoredDomain.test(domain)) {
    throw new MirrorhookError('MH_CONFIG_INVALID', `"${domain}" is not a registry host[:port]`);
  }
  if (prefix !== '' && !anchoredPath.test(prefix)) {
    throw new MirrorhookError(
      'MH_CONFIG_INVALID',
      `"${prefix}" is not a valid repository path: lowercase letters and digits, parts joined by '.', '_', '__' or dashes`,
    );
  }
  return { domain, prefix };
}

export function formatMirrorRegistry(mirror: MirrorRegistry): string {
  return mirror.prefix === '' ? mirror.domain : `${mirror.domain}/${mirror.prefix}`;
}
