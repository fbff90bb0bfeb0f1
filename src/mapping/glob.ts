/**
 * Glob patterns over fully-qualified repository names (`docker.io/library/nginx`): `**` matches any number of path
 * parts, `*` stays inside one part, `?` is one character of a part. Registry hosts compare case-insensitively.
 */
export function compileGlob(pattern: string): (repository: string) => boolean {
  let source = '';
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index] ?? '';
    if (char === '*' && pattern[index + 1] === '*') {
      source += '.*';
      index += 1;
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  const expression = new RegExp(`^${source}$`, 'i');
  return (repository) => expression.test(repository);
}

export function compileGlobs(patterns: readonly string[]): (repository: string) => string | undefined {
  const compiled = patterns.map((pattern) => ({ pattern, matches: compileGlob(pattern) }));
  return (repository) => compiled.find(({ matches }) => matches(repository))?.pattern;
}
