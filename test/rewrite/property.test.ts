import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Action } from '../../src/mapping/index.js';
import { planRewrite } from '../../src/rewrite/plan.js';
import { scanText } from '../../src/scan/scan.js';
import { testMapper } from '../scan/mapper.js';

const mapper = testMapper();

const component = fc.stringMatching(/^[a-z0-9]{1,6}(?:[-_.][a-z0-9]{1,4})?$/);
const reference = fc
  .record({
    domain: fc.constantFrom('', 'docker.io/', 'index.docker.io/', 'quay.io/', 'ghcr.io/', 'registry.k8s.io/', 'localhost:5000/', 'mirror.example.com/m/docker.io/'),
    path: fc.array(component, { minLength: 1, maxLength: 3 }),
    tag: fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}$/), { nil: undefined }),
    digest: fc.option(fc.stringMatching(/^[a-f0-9]{64}$/), { nil: undefined }),
  })
  .map(({ domain, path, tag, digest }) => `${domain}${path.join('/')}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@sha256:${digest}`}`);

const quoting = fc.constantFrom((value: string) => value, (value: string) => `"${value}"`, (value: string) => `'${value}'`);
const comment = fc.constantFrom('', '  # image: not-this:1', ' # pinned');

const manifest = fc
  .record({
    eol: fc.constantFrom('\n', '\r\n'),
    indent: fc.constantFrom(2, 4),
    documents: fc.array(
      fc.record({
        kind: fc.constantFrom('Deployment', 'StatefulSet', 'Job', 'CronJob', 'Pod'),
        name: component,
        containers: fc.array(fc.record({ name: component, image: reference, quote: quoting, comment, list: fc.constantFrom('containers', 'initContainers') }), { minLength: 1, maxLength: 4 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ eol, indent, documents }) => {
    const pad = (depth: number) => ' '.repeat(depth * indent);
    const lines: string[] = [];
    for (const document of documents) {
      lines.push('---', `# ${document.kind} rendered by helm; image: ignored-in-comment`, `kind: ${document.kind}`, 'metadata:', `${pad(1)}name: ${document.name}`, 'spec:');
      let depth = 1;
      const open = (key: string) => {
        lines.push(`${pad(depth)}${key}:`);
        depth += 1;
      };
      if (document.kind === 'CronJob') {
        open('jobTemplate');
        open('spec');
      }
      if (document.kind !== 'Pod') {
        open('template');
        open('spec');
      }
      for (const list of ['initContainers', 'containers'] as const) {
        const members = document.containers.filter((container) => container.list === list);
        if (members.length === 0) continue;
        lines.push(`${pad(depth)}${list}:`);
        for (const container of members) {
          lines.push(`${pad(depth)}- name: ${container.name}`, `${pad(depth)}  image: ${container.quote(container.image)}${container.comment}`);
        }
      }
    }
    return lines.join(eol) + eol;
  });

function withImagesMapped(value: unknown, map: (image: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => withImagesMapped(item, map));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [key, key === 'image' && typeof child === 'string' ? map(child) : withImagesMapped(child, map)]),
    );
  }
  return value;
}

function mirrorOf(image: string): string {
  const decision = mapper.decide(image);
  if (decision.action !== Action.rewrite) return image;
  const { domain, path, tag, digest } = decision.target;
  return `${domain}/${path}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
}

describe('rewrite properties', () => {
  it('leaves no third-party reference, the same objects except images, the same lines elsewhere, and is idempotent', () => {
    fc.assert(
      fc.property(manifest, (text) => {
        const scan = scanText('m.yaml', text, mapper);
        const plan = planRewrite(scan, text, mapper);
        expect(plan.changes).toHaveLength(scan.occurrences.filter((occurrence) => occurrence.standing === 'third-party').length);
        const rescan = scanText('m.yaml', plan.rewritten, mapper);
        expect(rescan.occurrences.filter((occurrence) => occurrence.standing === 'third-party')).toEqual([]);

        const before = parseAllDocuments(text).map((document) => document.toJS() as unknown);
        const after = parseAllDocuments(plan.rewritten).map((document) => document.toJS() as unknown);
        expect(after).toEqual(withImagesMapped(before, mirrorOf));

        const originalLines = text.split('\n');
        const rewrittenLines = plan.rewritten.split('\n');
        expect(rewrittenLines).toHaveLength(originalLines.length);
        rewrittenLines.forEach((line, index) => {
          if (line !== originalLines[index]) expect(line).toMatch(/^\s*image: /);
        });

        expect(planRewrite(rescan, plan.rewritten, mapper).changes).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves no third-party base image in a multi-stage Dockerfile with build arguments', () => {
    const dockerfile = fc
      .record({
        base: reference,
        tool: reference,
        copied: reference,
        version: fc.stringMatching(/^[0-9]{1,2}\.[0-9]{1,2}$/),
        eol: fc.constantFrom('\n', '\r\n'),
      })
      .map(({ base, tool, copied, version, eol }) =>
        [
          `ARG BASE=${base}`,
          `ARG VERSION=${version}`,
          '# FROM commented:out',
          `FROM --platform=$BUILDPLATFORM ${tool.replace(/[:@].*$/, '')}:\${VERSION} AS build`,
          'RUN make',
          'FROM ${BASE}',
          'COPY --from=build /out /out',
          `COPY --from=${copied} /bin/x /bin/x`,
          '',
        ].join(eol),
      );
    fc.assert(
      fc.property(dockerfile, (text) => {
        const plan = planRewrite(scanText('Dockerfile', text, mapper), text, mapper);
        const rescan = scanText('Dockerfile', plan.rewritten, mapper);
        expect(rescan.occurrences.filter((occurrence) => occurrence.standing === 'third-party')).toEqual([]);
        expect(rescan.occurrences).toHaveLength(scanText('Dockerfile', text, mapper).occurrences.length);
        expect(planRewrite(rescan, plan.rewritten, mapper).changes).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
