import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { extractKubernetes } from '../kubernetes/extract.js';
import type { Finding } from '../types.js';

/** What `helm template` deploys, by the template file it comes from (helm's `# Source:` comments). */
export interface Rendered {
  readonly file: string;
  readonly findings: readonly Finding[];
}

export type RenderResult = { readonly ok: true; readonly rendered: readonly Rendered[] } | { readonly ok: false; readonly detail: string };

export const helmInstallHint = 'helm is not on PATH: templates were not rendered (install helm 3, https://helm.sh/docs/intro/install/)';

/**
 * Renders a chart offline with its default values: `helm template` reads the chart and its vendored `charts/`
 * and never touches the network. A chart that takes longer than `timeoutMs` is reported, not waited for.
 */
export function renderChart(chart: string, timeoutMs = 20_000): RenderResult {
  const result = spawnSync('helm', ['template', 'scan', chart], {
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
  const byFile = new Map<string, Finding[]>();
  for (const chunk of result.stdout.split(/^---[ \t]*$/m)) {
    const source = /^# Source: ([^\n]+)$/m.exec(chunk)?.[1];
    if (source === undefined) continue;
    const findings = extractKubernetes(chunk).findings;
    if (findings.length === 0) continue;
    // The path starts with the chart's name, not its folder: the rest is relative to the chart folder.
    const file = join(chart, source.slice(source.indexOf('/') + 1));
    byFile.set(file, [...(byFile.get(file) ?? []), ...findings]);
  }
  return { ok: true, rendered: [...byFile].map(([file, findings]) => ({ file, findings })) };
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
