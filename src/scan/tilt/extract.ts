import type { ExtractResult } from '../types.js';

/** `docker_build('name', …)`, `custom_build('name', …)` and their `ref=` form; `#` comments are not read. */
const buildCall = /^[^#\n]*?\b(?:docker_build|custom_build|docker_build_with_restart)\(\s*(?:ref\s*=\s*)?(['"])([^'"\n]+)\1/gm;

/**
 * The images a Tiltfile builds. A Tiltfile is Starlark, a program: only the literal first argument of the build
 * calls is read. A name computed at run time is not known and is not reported.
 */
export function extractTiltfile(text: string): ExtractResult {
  const builds = [...text.matchAll(buildCall)].flatMap((match) => match[2] ?? []);
  return { findings: [], problems: [], builds };
}
