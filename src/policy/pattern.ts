/**
 * Binary Authorization image name patterns (`admissionWhitelistPatterns[].namePattern`): a registry and path,
 * exact or ending in a wildcard. `*` at the end matches within the last path part (it never crosses `/`); `**` at
 * the end matches any depth below. A wildcard anywhere else, or inside the registry host, is refused by the API.
 */

/** Why a pattern would be refused, or undefined when it is acceptable. */
export function namePatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'a pattern cannot be empty';
  if (/\s/.test(pattern)) return `"${pattern}" contains white space`;
  if (/^[a-z]+:\/\//i.test(pattern)) return `"${pattern}": write registry/path without a scheme`;
  if (pattern.includes('?')) return `"${pattern}": "?" is not a wildcard Binary Authorization knows; use * or ** at the end`;
  const slash = pattern.indexOf('/');
  const host = slash === -1 ? pattern : pattern.slice(0, slash);
  if (host.includes('*')) return `"${pattern}": a wildcard cannot be in the registry host; write it after "registry/"`;
  if (host.length === 0) return `"${pattern}" has no registry host`;
  const firstStar = pattern.indexOf('*');
  if (firstStar !== -1) {
    const tail = pattern.slice(firstStar);
    if (tail !== '*' && tail !== '**') return `"${pattern}": a wildcard is allowed only at the end (* or **)`;
  }
  if (pattern.includes('//')) return `"${pattern}" has an empty path part`;
  return undefined;
}

/**
 * Whether an image matches a pattern, as Binary Authorization matches it: the pattern is compared with the image
 * name as the Pod wrote it once qualified, with and without its tag or digest.
 */
export function matchesNamePattern(pattern: string, image: { readonly repository: string; readonly full: string }): boolean {
  return matchOne(pattern, image.repository) || matchOne(pattern, image.full);
}

function matchOne(pattern: string, name: string): boolean {
  if (pattern.endsWith('**')) return name.startsWith(pattern.slice(0, -2));
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    return name.startsWith(prefix) && !name.slice(prefix.length).includes('/');
  }
  return name === pattern;
}
