import { MirrorhookError } from '../errors.js';
import {
  anchoredDigest,
  anchoredDomain,
  anchoredHexIdentifier,
  anchoredHostAndPort,
  anchoredPath,
  anchoredTag,
  digestEncodings,
  dockerHubDomain,
  dockerHubLegacyDomain,
  dockerHubOfficialNamespace,
  nameTotalLengthMax,
} from './grammar.js';

/**
 * A fully-qualified image reference: `domain/path[:tag][@digest]`, normalised the way Docker and containerd do it
 * (`nginx` is `docker.io/library/nginx`). Tag and digest are both kept when both are written.
 */
export interface ImageReference {
  /** Registry host with optional port: `docker.io`, `localhost:5000`, `[::1]:5000`. */
  readonly domain: string;
  /** Repository path inside the registry: `library/nginx`. */
  readonly path: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

export type ParseResult =
  | { readonly ok: true; readonly reference: ImageReference }
  | { readonly ok: false; readonly error: MirrorhookError };

/** Parses and normalises a reference as written in a Pod, a manifest or a Dockerfile. Throws MirrorhookError. */
export function parseReference(input: string): ImageReference {
  if (input.length === 0) throw new MirrorhookError('MH_REF_EMPTY');
  if (anchoredHexIdentifier.test(input)) throw new MirrorhookError('MH_REF_HEX_NAME', quote(input));
  if (/\s/.test(input)) throw new MirrorhookError('MH_REF_FORMAT', `${quote(input)} contains white space`);

  const { domain, remainder } = splitDomain(input);
  const at = remainder.indexOf('@');
  const beforeDigest = at === -1 ? remainder : remainder.slice(0, at);
  const digest = at === -1 ? undefined : remainder.slice(at + 1);
  const lastSlash = beforeDigest.lastIndexOf('/');
  const colon = beforeDigest.indexOf(':', lastSlash + 1);
  const path = colon === -1 ? beforeDigest : beforeDigest.slice(0, colon);
  const tag = colon === -1 ? undefined : beforeDigest.slice(colon + 1);

  validateDomain(domain, input);
  validatePath(path, input);
  if (tag !== undefined) validateTag(tag, input);
  if (digest !== undefined) validateDigest(digest, input);

  const name = `${domain}/${path}`;
  if (name.length > nameTotalLengthMax) {
    throw new MirrorhookError('MH_REF_NAME_TOO_LONG', `${quote(input)} is ${name.length} characters once qualified`);
  }
  return { domain, path, tag, digest };
}

export function tryParseReference(input: string): ParseResult {
  try {
    return { ok: true, reference: parseReference(input) };
  } catch (error) {
    if (error instanceof MirrorhookError) return { ok: false, error };
    throw error;
  }
}

/** The fully-qualified string form: `docker.io/library/nginx:1.25@sha256:…`. */
export function formatReference(reference: ImageReference): string {
  let text = `${reference.domain}/${reference.path}`;
  if (reference.tag !== undefined) text += `:${reference.tag}`;
  if (reference.digest !== undefined) text += `@${reference.digest}`;
  return text;
}

/** The repository without tag or digest: `docker.io/library/nginx`. */
export function repositoryName(reference: ImageReference): string {
  return `${reference.domain}/${reference.path}`;
}

/** The tag or digest a registry is asked for: the digest when there is one (it is what the bytes are), else the tag, else `latest`. */
export function manifestSelector(reference: ImageReference): string {
  return reference.digest ?? reference.tag ?? 'latest';
}

export interface DomainParts {
  /** Host without brackets: `localhost`, `127.0.0.1`, `::1`. */
  readonly host: string;
  readonly port: number | undefined;
  readonly ipv6: boolean;
}

export function splitHostPort(domain: string): DomainParts {
  const match = anchoredHostAndPort.exec(domain);
  if (match === null) throw new MirrorhookError('MH_REF_DOMAIN', quote(domain));
  const rawHost = match[1] ?? '';
  const ipv6 = rawHost.startsWith('[');
  return {
    host: ipv6 ? rawHost.slice(1, -1) : rawHost,
    port: match[2] === undefined ? undefined : Number(match[2]),
    ipv6,
  };
}

/**
 * Docker's rule for the first path element: it is a registry host when it contains `.` or `:`, is `localhost`, or
 * has an uppercase letter; otherwise the reference is on Docker Hub.
 */
function splitDomain(input: string): { domain: string; remainder: string } {
  const slash = input.indexOf('/');
  const first = slash === -1 ? '' : input.slice(0, slash);
  const isDomain =
    slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first);
  if (!isDomain) return { domain: dockerHubDomain, remainder: officialNamespace(input) };
  const domain = first === dockerHubLegacyDomain ? dockerHubDomain : first;
  const remainder = input.slice(slash + 1);
  return { domain, remainder: domain === dockerHubDomain ? officialNamespace(remainder) : remainder };
}

function officialNamespace(remainder: string): string {
  const nameEnd = remainder.search(/[:@]/);
  const name = nameEnd === -1 ? remainder : remainder.slice(0, nameEnd);
  return name === '' || name.includes('/') ? remainder : `${dockerHubOfficialNamespace}/${remainder}`;
}

function validateDomain(domain: string, input: string): void {
  if (domain.length === 0) throw new MirrorhookError('MH_REF_DOMAIN', `${quote(input)} has an empty registry host`);
  if (!anchoredDomain.test(domain)) {
    throw new MirrorhookError(
      'MH_REF_DOMAIN',
      `${quote(domain)} in ${quote(input)} is not host[:port] (letters, digits, '-', '.', or a bracketed IPv6 address; a numeric port)`,
    );
  }
}

function validatePath(path: string, input: string): void {
  if (path.length === 0) throw new MirrorhookError('MH_REF_FORMAT', `${quote(input)} has no repository name`);
  if (path.toLowerCase() !== path) {
    throw new MirrorhookError('MH_REF_UPPERCASE', `${quote(path)} in ${quote(input)}`);
  }
  if (!anchoredPath.test(path)) {
    throw new MirrorhookError(
      'MH_REF_FORMAT',
      `repository ${quote(path)} in ${quote(input)}: each '/'-separated part is lowercase letters and digits, joined by '.', '_', '__' or dashes`,
    );
  }
}

function validateTag(tag: string, input: string): void {
  if (!anchoredTag.test(tag)) {
    throw new MirrorhookError(
      'MH_REF_TAG',
      `${quote(tag)} in ${quote(input)}: a tag is 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'`,
    );
  }
}

function validateDigest(digest: string, input: string): void {
  if (!anchoredDigest.test(digest)) {
    throw new MirrorhookError(
      'MH_REF_DIGEST',
      `${quote(digest)} in ${quote(input)}: a digest is algorithm:hex, e.g. sha256: and 64 lowercase hex digits`,
    );
  }
  const separator = digest.indexOf(':');
  const algorithm = digest.slice(0, separator);
  const encoded = digest.slice(separator + 1);
  const encoding = digestEncodings[algorithm];
  if (encoding === undefined) {
    throw new MirrorhookError('MH_REF_DIGEST_ALGORITHM', `${quote(algorithm)} in ${quote(input)} (sha256, sha384 or sha512)`);
  }
  if (!encoding.test(encoded)) {
    throw new MirrorhookError(
      'MH_REF_DIGEST',
      `${quote(digest)} in ${quote(input)}: ${algorithm} needs exactly ${encoding.source.match(/\{(\d+)\}/)?.[1] ?? 'the right number of'} lowercase hex digits`,
    );
  }
}

function quote(text: string): string {
  return JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text);
}
