import { card, escapeHtml, percent, renderPage, section, shareBar, table } from '../report/page.js';
import { syncSection } from '../report/sync.js';
import type { CopyView, FailureView, Status } from './model.js';

const code = (text: string): string => `<code>${escapeHtml(text)}</code>`;
/** A number the browser test reads back and compares with /status.json: `key` is its JSON path. */
const keyed = (key: string, value: number | string): string => `<span data-key="${escapeHtml(key)}">${escapeHtml(String(value))}</span>`;
const reasons = (keptBy: Record<string, number>): string =>
  Object.entries(keptBy)
    .sort(([, a], [, b]) => b - a)
    .map(([reason, count]) => `${escapeHtml(reason)} ${count}`)
    .join(', ') || '—';

function flatten(value: unknown, prefix: string, rows: string[][]): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix === '' ? key : `${prefix}.${key}`, rows);
    return;
  }
  rows.push([code(prefix), escapeHtml(Array.isArray(value) ? JSON.stringify(value) : String(value))]);
}

function copiesSection(status: Status): string {
  const copies = status.copies;
  if (!copies.enabled) return section('copies', 'Copy queue', `<p class="muted">Off: ${escapeHtml(copies.reason)}.</p>`);
  const copyRows = (list: CopyView[]) =>
    list.map((copy) => [code(copy.source), code(copy.target), escapeHtml(copy.startedAt ?? copy.queuedAt), String(copy.attempt), escapeHtml(copy.lastError ?? '—'), escapeHtml(copy.nextRetry ?? '—')]);
  const columns = [{ label: 'source' }, { label: 'mirror target' }, { label: 'since' }, { label: 'attempt', numeric: true }, { label: 'last error' }, { label: 'next retry' }];
  const failureRows = copies.failures.map((failure: FailureView) => [
    code(failure.source),
    `<span class="bad">✗ ${escapeHtml(failure.code)}</span>: ${escapeHtml(failure.message)}`,
    String(failure.attempts),
    escapeHtml(failure.at),
    `next Pod using it, not before ${escapeHtml(failure.nextRetry)}`,
  ]);
  return section(
    'copies',
    'Copy queue',
    `<div class="cards">${card('copies.queued', 'queued', copies.queued)}${card('copies.inFlight', 'in flight', copies.inFlight)}${card('copies.done', 'done', copies.done)}${card('copies.failed', 'failed', copies.failed)}${card('copies.failedAttempts', 'failed attempts', copies.failedAttempts)}</div>
${copies.running.length === 0 ? '' : table('Copies in flight', columns, copyRows(copies.running))}
${copies.waiting.length === 0 ? '' : table('Copies queued', columns, copyRows(copies.waiting))}
${failureRows.length === 0 ? '<p class="ok">✓ No copy has failed since start.</p>' : table('Latest failed copies, newest first', [{ label: 'source' }, { label: 'reason' }, { label: 'attempts', numeric: true }, { label: 'failed at' }, { label: 'retried' }], failureRows)}`,
  );
}

/** The live status page: the report's look, numbers marked with their JSON path, nothing fetched. */
export function renderStatusHtml(status: Status): string {
  const { totals } = status;
  const fromMirror = totals.rewritten + (totals.keptBy['already-mirrored'] ?? 0);
  const decided = totals.rewritten + totals.wouldRewrite + totals.kept;
  const sections: string[] = [];

  sections.push(
    section(
      'decisions',
      'Decisions since start',
      `<div class="cards">${card('totals.pods', 'Pods admitted', totals.pods)}${card('totals.rewritten', 'images rewritten', totals.rewritten)}${card('totals.wouldRewrite', 'would rewrite (audit)', totals.wouldRewrite)}${card('totals.kept', 'images kept', totals.kept)}${card('totals.invalid', 'invalid references', totals.invalid)}</div>
<p>Images served from the mirror (${fromMirror} of ${decided}): ${shareBar('images admitted that pull from the mirror', percent(fromMirror, decided))}</p>`,
    ),
  );

  const namespaceRows = Object.entries(status.namespaces)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, ns]) => [
      escapeHtml(name === '' ? '(none)' : name),
      escapeHtml(ns.mode),
      keyed(`namespaces.${name}.pods`, ns.pods),
      keyed(`namespaces.${name}.rewritten`, ns.rewritten),
      keyed(`namespaces.${name}.wouldRewrite`, ns.wouldRewrite),
      keyed(`namespaces.${name}.kept`, ns.kept),
      reasons(ns.keptBy),
      escapeHtml(ns.lastSeen ?? '—'),
    ]);
  sections.push(
    section(
      'namespaces',
      'Namespaces',
      namespaceRows.length === 0
        ? '<p class="muted">No Pod admitted since start.</p>'
        : `<p>Mode is the namespace label <code>mirrorhook.io/mode</code> at the latest admission. “Kept” images stay on their source; the reasons say why.</p>
${table('Decisions per namespace (container images)', [{ label: 'namespace' }, { label: 'mode' }, { label: 'Pods', numeric: true }, { label: 'rewritten', numeric: true }, { label: 'would rewrite', numeric: true }, { label: 'kept', numeric: true }, { label: 'kept because' }, { label: 'last seen' }], namespaceRows)}`,
    ),
  );

  const registryRows = Object.entries(status.registries)
    .sort(([, a], [, b]) => b.thirdParty - a.thirdParty)
    .map(([registry, row]) => [escapeHtml(registry), keyed(`registries.${registry}.thirdParty`, row.thirdParty), keyed(`registries.${registry}.rewritten`, row.rewritten)]);
  sections.push(
    section(
      'registries',
      'Source registries',
      registryRows.length === 0
        ? '<p class="muted">No image decided yet.</p>'
        : table('Images admitted per source registry: still pulled from it, and rewritten to the mirror', [{ label: 'registry' }, { label: 'still third-party', numeric: true }, { label: 'rewritten', numeric: true }], registryRows),
    ),
  );

  sections.push(copiesSection(status));

  const catalog = status.catalog;
  sections.push(
    section(
      'catalog',
      'Mirror catalog',
      catalog.enabled
        ? `<div class="cards">${card('catalog.entries', 'entries', catalog.entries)}${card('catalog.present', 'present', catalog.present)}${card('catalog.absent', 'absent', catalog.absent)}${card('catalog.lookups', 'lookups', catalog.lookups)}${card('catalog.hitRate', 'hit rate', catalog.hitRate === null ? '—' : `${Math.round(catalog.hitRate * 1000) / 10}%`)}</div>`
        : `<p class="muted">Off: ${escapeHtml(catalog.reason)}.</p>`,
    ),
  );

  if (status.sync.enabled) sections.push(syncSection(status.sync, new Date(status.replica.generatedAt), 'the first read of the mirror has not answered yet; reload in a few seconds'));

  const cert = status.certificate;
  const certLine =
    cert.notAfter === null
      ? '<p class="muted">No serving certificate (plain HTTP).</p>'
      : `<p>Serving certificate valid until ${escapeHtml(cert.notAfter)}: <strong data-key="certificate.daysLeft">${cert.daysLeft}</strong> days left <span class="${(cert.daysLeft ?? 0) < 14 ? 'bad">⚠ renew soon' : 'ok">✓'}</span></p>`;
  const requestRows = Object.entries(status.requests).flatMap(([route, outcomes]) =>
    Object.entries(outcomes).map(([outcome, count]) => [code(`/${route}`), escapeHtml(outcome), keyed(`requests.${route}.${outcome}`, count)]),
  );
  sections.push(
    section(
      'replica',
      'This replica',
      `${certLine}
${requestRows.length === 0 ? '' : table('AdmissionReview requests by route and outcome', [{ label: 'route' }, { label: 'outcome' }, { label: 'requests', numeric: true }], requestRows)}`,
    ),
  );

  const configRows: string[][] = [];
  flatten(status.config, '', configRows);
  sections.push(section('config', 'Configuration', `<p class="muted">No credential, token or password is shown: credential files appear only as “set”.</p>\n${table('Configuration in force', [{ label: 'key' }, { label: 'value' }], configRows)}`));

  const replica = status.replica;
  return renderPage(
    'mirrorhook status',
    `Replica ${replica.host}, version ${replica.version}, up since ${replica.startedAt} (${replica.uptimeSeconds} s); generated ${replica.generatedAt}. Reload for fresh numbers.`,
    sections,
  );
}
