import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { extractKubernetes } from '../kubernetes/extract.js';
import type { Finding } from '../types.js';
import { missingDependencies, withoutDependencies } from './dependencies.js';

/** What `helm template` deploys, by the template file it comes from (helm's `# Source:` comments). */
export interface Rendered {
  readonly file: string;
  readonly findings: readonly Finding[];
}

export type RenderResult =
  | { readonly ok: true; readonly rendered: readonly Rendered[]; readonly unrendered: readonly string[] }
  | { readonly ok: false; readonly detail: string };

export const helmInstallHint = 'helm is not on PATH: templates were not rendered (install helm 3, https://helm.sh/docs/intro/install/)';

/**
 * The Kubernetes version charts are rendered for. helm's own default (v1.20) is older than the `kubeVersion`
 * many charts require (cert-manager: >= 1.22), and a chart picks API versions by it; a current release renders
 * what a cluster of today gets.
 */
export const renderKubeVersion = 'v1.35.0';

/**
 * Renders a chart offline with its default values (plus `valuesFiles`, in order): `helm template` reads the chart and its vendored `charts/`
 * and never touches the network. Declared dependencies that are not vendored are left out (helm would refuse the
 * whole chart); `unrendered` names those the default values enable. A chart that takes longer than `timeoutMs`
 * is reported, not waited for.
 */
export function renderChart(chart: string, timeoutMs = 20_000, valuesFiles: readonly string[] = []): RenderResult {
  const missing = missingDependencies(chart);
  let folder = chart;
  let scratch: string | undefined;
  if (missing !== undefined) {
    // A copy, never the user's chart: the scan reads files, it does not change them.
    scratch = mkdtempSync(join(tmpdir(), 'mirrorhook-chart-'));
    folder = join(scratch, 'chart');
    cpSync(chart, folder, { recursive: true });
    const file = join(folder, missing.file);
    writeFileSync(file, withoutDependencies(readFileSync(file, 'utf8'), missing.missing));
  }
  try {
    const values = valuesFiles.flatMap((file) => ['--values', resolve(file)]);
    const result = spawnSync('helm', ['template', 'scan', folder, '--kube-version', renderKubeVersion, ...values], {
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, HELM_OFFLINE: '1' },
    });
    if (result.error !== undefined) {
      const code = (result.error as NodeJS.ErrnoException).code;
      return { ok: false, detail: code === 'ENOENT' ? helmInstallHint : `helm template: ${result.error.message}` };
    }
    if (result.status !== 0) return { ok: false, detail: `helm template failed: ${firstLine(result.stderr)}` };
    return { ok: true, rendered: bySource(chart, result.stdout), unrendered: (missing?.enabled ?? []).map((dependency) => dependency.name) };
  } finally {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  }
}

function bySource(chart: string, output: string): Rendered[] {
  const byFile = new Map<string, Finding[]>();
  for (const chunk of output.split(/^---[ \t]*$/m)) {
    const source = /^# Source: ([^\n]+)$/m.exec(chunk)?.[1];
    if (source === undefined) continue;
    const findings = extractKubernetes(chunk).findings;
    if (findings.length === 0) continue;
    // The path starts with the chart's name, not its folder: the rest is relative to the chart folder.
    const file = join(chart, source.slice(source.indexOf('/') + 1));
    byFile.set(file, [...(byFile.get(file) ?? []), ...findings]);
  }
  return [...byFile].map(([file, findings]) => ({ file, findings }));
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
