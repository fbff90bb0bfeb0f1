/**
 * The image-reference grammar of CNCF distribution (`github.com/distribution/reference`), as regular expressions.
 * Each piece is anchored on its own so that a failure can be reported precisely (which part is wrong), instead of
 * one "invalid reference format" for everything.
 */

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const host = `(?:${domainName}|${ipv6})`;
const port = '[0-9]+';

export const anchoredPathComponent = new RegExp(`^${pathComponent}$`);
export const anchoredPath = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);
export const anchoredDomain = new RegExp(`^${host}(?::${port})?$`);
export const anchoredHostAndPort = new RegExp(`^(${host})(?::(${port}))?$`);
export const anchoredTag = /^[\w][\w.-]{0,127}$/;
export const anchoredDigest = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
export const anchoredHexIdentifier = /^[a-f0-9]{64}$/;

/** Registered digest algorithms and the exact encoding each requires (go-digest). */
export const digestEncodings: Readonly<Record<string, RegExp>> = {
  sha256: /^[a-f0-9]{64}$/,
  sha384: /^[a-f0-9]{96}$/,
  sha512: /^[a-f0-9]{128}$/,
};

/** The longest repository name (domain and path) the distribution registry accepts. */
export const nameTotalLengthMax = 255;

export const dockerHubDomain = 'docker.io';
export const dockerHubLegacyDomain = 'index.docker.io';
export const dockerHubOfficialNamespace = 'library';
