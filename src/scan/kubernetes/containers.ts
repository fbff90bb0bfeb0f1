import { isTemplated } from '../template.js';
import { type Finding, ScanSkipReason } from '../types.js';
import type { ScalarSpan } from '../yaml.js';

/** The PodSpec lists that hold containers; anything that embeds a PodSpec (any kind, any depth) has them. */
export const containerListKeys = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/**
 * Keys that hold containers in the pipeline resources built on Kubernetes, read only inside objects of that API
 * group so that an unrelated `steps:` list is never taken for containers:
 * - Tekton (`tekton.dev/*`: Task, Pipeline, TaskRun, PipelineRun): `steps` and `sidecars` lists, a `stepTemplate`;
 * - Argo Workflows (`argoproj.io/*`: Workflow, WorkflowTemplate, CronWorkflow): each template's `container` and
 *   `script`, and its `sidecars` list (its `initContainers` are a PodSpec list already).
 */
export const groupKeys: readonly { group: string; lists: readonly string[]; single: readonly string[] }[] = [
  { group: 'tekton.dev/', lists: ['steps', 'sidecars'], single: ['stepTemplate'] },
  { group: 'argoproj.io/', lists: ['sidecars'], single: ['container', 'script'] },
];

/** The innermost enclosing object with a `kind` (a `List` item, not the `List`). */
export interface Owner {
  readonly kind: string;
  readonly name: string | undefined;
  readonly apiVersion: string | undefined;
}

/** Pipeline groups are looked for only in files that name one. */
export function mayHoldPipelines(text: string): boolean {
  return text.includes('tekton.dev/') || text.includes('argoproj.io/');
}

/** The finding for a string value that holds a whole image reference, at `span`. */
export function referenceFinding(
  value: string,
  span: ScalarSpan,
  owner: { kind: string; name: string | undefined },
  container: string | undefined,
): Finding {
  const templated = isTemplated(value);
  return {
    start: span.start,
    end: span.end,
    image: value,
    reference: templated ? undefined : value,
    kind: owner.kind,
    name: owner.name,
    container,
    skipReason: templated ? ScanSkipReason.templated : undefined,
    edit: templated ? { kind: 'none', reason: 'templated values are left to their template' } : span.edit,
  };
}
