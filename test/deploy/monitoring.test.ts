import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { parseAllDocuments, parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { type CrdSchema, schemaProblems } from '../support/crd-schema.js';
import { testConfig } from '../support/fixtures.js';

// deploy/monitoring under a real rule checker: promtool (Debian's, installed by test/setup/install-tools.sh) checks the
// PrometheusRule's groups and runs the alert unit tests of monitoring/alerts.promtool.yaml; the ServiceMonitor and
// PrometheusRule fit the prometheus-operator CRDs (fetched by install-tools.sh); every metric the alerts and the
// Grafana dashboard query is one the webhook exports on /metrics. (helm.test.ts keeps the chart's copies equal.)

const run = promisify(execFile);
const repoRoot = new URL('../../', import.meta.url).pathname;

function promtool(): string {
  // Debian's prometheus package (installed by test/setup/install-tools.sh for its promtool).
  const path = process.env.MIRRORHOOK_TEST_PROMTOOL ?? '/usr/bin/promtool';
  if (!existsSync(path)) throw new Error(`${path} is missing: run test/setup/install-tools.sh (it installs Debian's prometheus for promtool)`);
  return path;
}

interface RuleGroups {
  groups: { name: string; rules: { alert?: string; expr: string }[] }[];
}

const rules = (parseYaml(readFileSync(join(repoRoot, 'deploy/monitoring/prometheusrule.yaml'), 'utf8')) as { spec: RuleGroups }).spec;
const dashboard = JSON.parse(readFileSync(join(repoRoot, 'deploy/monitoring/grafana-dashboard.json'), 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};

/** The rule groups in rule-file form, in a fresh directory with the unit tests beside them. */
function ruleDirectory(groups: RuleGroups): string {
  const dir = mkdtempSync(join(tmpdir(), 'mh-promtool-'));
  writeFileSync(join(dir, 'prometheus-rules.yaml'), stringifyYaml(groups));
  copyFileSync(join(repoRoot, 'test/deploy/monitoring/alerts.promtool.yaml'), join(dir, 'alerts.promtool.yaml'));
  return dir;
}

async function promtoolRun(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(promtool(), args, { maxBuffer: 16 << 20 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('deploy/monitoring alerts', () => {
  it('pass promtool check rules', async () => {
    const dir = ruleDirectory(rules);
    const result = await promtoolRun('check', 'rules', join(dir, 'prometheus-rules.yaml'));
    expect(result.output).toContain('SUCCESS: 5 rules found');
    expect(result.code).toBe(0);
  });

  it('fire as their promtool unit tests expect (queue stuck, copies failing, certificate, webhook errors)', async () => {
    const dir = ruleDirectory(rules);
    const result = await promtoolRun('test', 'rules', join(dir, 'alerts.promtool.yaml'));
    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('are judged for real: promtool refuses a broken expression', async () => {
    const broken = structuredClone(rules);
    broken.groups[0]!.rules[0]!.expr = 'sum by (registry (rate(mirrorhook_copies_total[5m]))';
    const result = await promtoolRun('check', 'rules', join(ruleDirectory(broken), 'prometheus-rules.yaml'));
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/parse error|unexpected/i);
  });
});

describe('deploy/monitoring objects', () => {
  const crdSchema = (file: string): CrdSchema => {
    const path = join(repoRoot, '.cache/crds', file);
    if (!existsSync(path)) throw new Error(`${path} is missing: run test/setup/install-tools.sh (it fetches the prometheus-operator CRDs)`);
    const crd = parseYaml(readFileSync(path, 'utf8')) as { spec: { versions: { name: string; schema: { openAPIV3Schema: CrdSchema } }[] } };
    return crd.spec.versions.find((version) => version.name === 'v1')!.schema.openAPIV3Schema;
  };
  const kinds: Record<string, CrdSchema> = {
    ServiceMonitor: crdSchema('monitoring.coreos.com_servicemonitors.yaml'),
    PrometheusRule: crdSchema('monitoring.coreos.com_prometheusrules.yaml'),
  };

  it('fit the prometheus-operator CRDs, field by field', async () => {
    const rendered = (await run(join(repoRoot, '.cache/bin/kubectl'), ['kustomize', join(repoRoot, 'deploy/overlays/monitoring')], { maxBuffer: 16 << 20 })).stdout;
    const objects = parseAllDocuments(rendered).map((document) => document.toJS() as { kind: string; apiVersion: string });
    const checked = objects.filter((object) => object.kind in kinds);
    expect(checked.map((object) => object.kind).sort()).toEqual(['PrometheusRule', 'ServiceMonitor']);
    for (const object of checked) {
      expect(object.apiVersion).toBe('monitoring.coreos.com/v1');
      expect(schemaProblems(object, kinds[object.kind]!), object.kind).toEqual([]);
    }
  });

  it('are judged for real: a misspelt field or a wrong type is a problem', () => {
    const monitor = parseYaml(readFileSync(join(repoRoot, 'deploy/monitoring/servicemonitor.yaml'), 'utf8')) as { spec: { endpoints: Record<string, any>[] } };
    monitor.spec.endpoints[0]!.tlsConfig = { insecureSkipVerfy: true };
    monitor.spec.endpoints[0]!.scheme = 'gopher';
    const problems = schemaProblems(monitor, kinds.ServiceMonitor!);
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/insecureSkipVerfy: unknown field/), expect.stringMatching(/scheme: "gopher" is not one of/)]));
  });
});

describe('metric names in the alerts and the dashboard', () => {
  it('are all exported on /metrics', async () => {
    const webhook = buildApp({ config: testConfig(), logger: false });
    await webhook.app.ready();
    const text = (await request(webhook.app.server).get('/metrics').expect(200)).text;
    await webhook.app.close();
    const exported = new Set<string>();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(name!);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${name}${suffix}`);
    }
    const expressions = [
      ...rules.groups.flatMap((group) => group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr }))),
      ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr }))),
    ];
    const used = new Set<string>();
    for (const { where, expr } of expressions) {
      const names = expr.match(/\bmirrorhook_[a-z0-9_]+/g) ?? [];
      expect(names.length, `${where} queries no mirrorhook metric`).toBeGreaterThan(0);
      for (const name of names) {
        expect(exported.has(name), `${where} uses ${name}, which /metrics does not export`).toBe(true);
        used.add(name);
      }
    }
    // The metrics the status page is built from all reach the dashboard or an alert.
    for (const name of ['mirrorhook_decisions_total', 'mirrorhook_third_party_images_total', 'mirrorhook_copy_queue_depth', 'mirrorhook_copy_failures_total', 'mirrorhook_catalog_lookups_total']) {
      expect(used, name).toContain(name);
    }
  });
});
