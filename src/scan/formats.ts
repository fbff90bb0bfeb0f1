import { actionsFormat } from './actions/index.js';
import { cloudBuildFormat } from './cloudbuild/index.js';
import { composeFormat } from './compose/index.js';
import { dockerfileFormat } from './dockerfile/index.js';
import { kubernetesFormat } from './kubernetes/index.js';
import { koFormat } from './ko/index.js';
import { kustomizeFormat } from './kustomize/index.js';
import { skaffoldFormat } from './skaffold/index.js';
import { tiltFormat } from './tilt/index.js';
import type { Format } from './types.js';

/** Every file format scan reads, most specific first: the first whose `matches` accepts a path reads it. */
export const formats = {
  dockerfile: dockerfileFormat,
  tilt: tiltFormat,
  skaffold: skaffoldFormat,
  ko: koFormat,
  kustomize: kustomizeFormat,
  cloudbuild: cloudBuildFormat,
  'github-actions': actionsFormat,
  compose: composeFormat,
  kubernetes: kubernetesFormat,
} as const satisfies Record<string, Format>;

export type FormatName = keyof typeof formats;

export function formatFor(path: string): Format | undefined {
  return Object.values(formats).find((format) => format.matches(path));
}
