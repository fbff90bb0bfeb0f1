import { type Node, isMap, isScalar, isSeq } from 'yaml';
import type { ExtractResult } from '../types.js';
import { mapGet, parseYaml } from '../yaml.js';

/**
 * The images a Skaffold config builds: `build.artifacts[].image` of every document (a file may hold several
 * configs, one of them `requires` others) and of every profile. Skaffold pulls none of them: it builds each and
 * puts its own tag on it, so a manifest that names one is deploying a built image, not a third-party one.
 */
export function extractSkaffold(text: string): ExtractResult {
  const { documents, problems } = parseYaml(text);
  const builds: string[] = [];
  for (const document of documents) {
    if (!isMap(document.contents)) continue;
    artifacts(mapGet(document.contents, 'build'), builds);
    const profiles = mapGet(document.contents, 'profiles');
    if (isSeq(profiles)) for (const profile of profiles.items) if (isMap(profile)) artifacts(mapGet(profile, 'build'), builds);
  }
  return { findings: [], problems, builds };
}

function artifacts(build: Node | undefined, into: string[]): void {
  if (!isMap(build)) return;
  const list = mapGet(build, 'artifacts');
  if (!isSeq(list)) return;
  for (const artifact of list.items) {
    if (!isMap(artifact)) continue;
    const image = mapGet(artifact, 'image');
    if (isScalar(image) && typeof image.value === 'string') into.push(image.value);
  }
}
