import { type Node, isMap, isScalar, isSeq } from 'yaml';
import { scalarFinding } from '../kubernetes/extract.js';
import type { ExtractResult, Finding } from '../types.js';
import { mapGet, parseYaml, resolvedGet, stringAt } from '../yaml.js';

const dockerScheme = 'docker://';

/**
 * The images a GitHub Actions workflow pulls: `jobs.<id>.container` (a reference, or a map with `image`),
 * `jobs.<id>.services.<name>.image`, and `steps[].uses: docker://<reference>` (the span is the reference after the
 * scheme, so rewrite keeps `docker://`). Actions from repositories (`uses: actions/checkout@v4`) are not images.
 */
export function extractActions(text: string): ExtractResult {
  const { documents, problems } = parseYaml(text);
  const findings: Finding[] = [];
  const add = (finding: Finding | undefined): void => {
    if (finding !== undefined) findings.push(finding);
  };
  for (const document of documents) {
    if (!isMap(document.contents)) continue;
    const jobs = mapGet(document.contents, 'jobs');
    if (!isMap(jobs)) continue;
    for (const pair of jobs.items) {
      const job = pair.value;
      if (!isMap(job)) continue;
      const owner = { kind: 'workflow', name: isScalar(pair.key) ? String(pair.key.value) : undefined };
      const container = resolvedGet(job, 'container', document);
      add(scalarFinding(isMap(container) ? resolvedGet(container, 'image', document) : container, text, owner, 'container'));
      const services = mapGet(job, 'services');
      if (isMap(services)) {
        for (const service of services.items) {
          if (!isMap(service.value)) continue;
          add(scalarFinding(resolvedGet(service.value, 'image', document), text, owner, isScalar(service.key) ? `service ${String(service.key.value)}` : undefined));
        }
      }
      const steps = mapGet(job, 'steps');
      if (isSeq(steps)) for (const step of steps.items) if (isMap(step)) add(dockerStep(resolvedGet(step, 'uses', document), text, owner, stringAt(step, 'name')));
    }
  }
  findings.sort((left, right) => left.start - right.start);
  return { findings, problems };
}

function dockerStep(uses: Node | undefined, text: string, owner: { kind: string; name: string | undefined }, step: string | undefined): Finding | undefined {
  if (!isScalar(uses) || typeof uses.value !== 'string' || !uses.value.startsWith(dockerScheme)) return undefined;
  const finding = scalarFinding(uses, text, owner, step === undefined ? 'step' : `step ${step}`);
  if (finding === undefined) return undefined;
  const image = finding.image.slice(dockerScheme.length);
  return {
    ...finding,
    start: finding.edit.kind === 'reference' ? finding.start + dockerScheme.length : finding.start,
    image,
    reference: finding.reference === undefined ? undefined : image,
  };
}
