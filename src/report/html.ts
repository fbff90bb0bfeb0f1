import type { Report, ReportImage } from './model.js';
import { card, escapeHtml, percent, renderPage, section, shareBar, table } from './page.js';
import { syncSection } from './sync.js';

/** Filters for the image list without script: radio buttons and `:has()` hide the rows that do not match. */
const filters = [
  { id: 'all', label: 'all', hide: '' },
  { id: 'third-party', label: 'still third-party', hide: ':not([data-standing="third-party"])' },
  { id: 'missing', label: 'missing from the mirror', hide: ':not([data-in-mirror="false"])' },
  { id: 'mirrored', label: 'served from the mirror', hide: ':not([data-standing="mirrored"])' },
] as const;

const filterStyle = filters
  .filter((filter) => filter.hide !== '')
  .map((filter) => `body:has(#show-${filter.id}:checked) #image-list tbody tr${filter.hide}{display:none}`)
  .join('\n');

function standingCell(image: ReportImage): string {
  if (image.standing === 'mirrored') return '<span class="ok">✓ mirrored</span>';
  if (image.standing === 'third-party') return '<span class="bad">✗ third-party</span>';
  return `<span class="muted">– ${escapeHtml(image.standing)}</span>`;
}

function presenceCell(image: ReportImage): string {
  if (image.inMirror === null) return '<span class="muted">not checked</span>';
  return image.inMirror ? '<span class="ok">✓ present</span>' : '<span class="bad">✗ absent</span>';
}

const code = (text: string | null): string => (text === null ? '—' : `<code>${escapeHtml(text)}</code>`);

/** The report as one HTML page: inline CSS and SVG, one hashed inline script for sorting, nothing fetched. */
export function renderReportHtml(report: Report, generatedAt = new Date()): string {
  const { images } = report;
  const imageShare = percent(images.mirrored, images.mirrored + images.thirdParty);
  const containerShare = percent(images.containersMirrored, images.containers);
  const hub = report.dockerHub;
  const sections: string[] = [];

  const namespaceLine =
    report.namespaces.length === 0 ? '' : `<p>Namespaces with nothing left to move (${report.namespacesMirrored} of ${report.namespaces.length}): ${shareBar('namespaces fully from the mirror', percent(report.namespacesMirrored, report.namespaces.length))}</p>`;
  sections.push(
    section(
      'progress',
      'Progress',
      `<div class="cards">${card('images.total', 'images', images.total)}${card('images.mirrored', 'served from the mirror', images.mirrored)}${card('images.thirdParty', 'still third-party', images.thirdParty)}${card('images.missingFromMirror', 'missing from the mirror', images.missingFromMirror ?? 'not checked')}${card('images.leftOut', 'left out by sources:', images.leftOut)}${card('images.containers', 'containers', images.containers)}</div>
<p>Images from the mirror (${images.mirrored} of ${images.mirrored + images.thirdParty}): ${shareBar('images from the mirror', imageShare)}</p>
<p>Containers from the mirror (${images.containersMirrored} of ${images.containers}): ${shareBar('containers from the mirror', containerShare)}</p>
${namespaceLine}`,
    ),
  );

  if (report.sync !== undefined) sections.push(syncSection(report.sync, generatedAt, 'report --offline does not ask the mirror'));

  const waitingRows = Object.entries(report.waiting).map(([reason, count]) => [escapeHtml(reason), `<span data-key="waiting.${escapeHtml(reason)}">${count}</span>`]);
  sections.push(section('waiting', 'What the rest waits for', table('Images not served from the mirror, by what they wait for', [{ label: 'waiting for' }, { label: 'images', numeric: true }], waitingRows)));

  if (report.namespaces.length > 0) {
    const rows = report.namespaces.map((ns) => [
      escapeHtml(ns.name),
      ns.mode === 'none' ? 'not opted in' : escapeHtml(ns.mode),
      String(ns.containers),
      String(ns.mirrored),
      `<span data-key="namespaces.${escapeHtml(ns.name)}.thirdParty">${ns.thirdParty}</span>`,
      `<span data-key="namespaces.${escapeHtml(ns.name)}.wouldRewrite">${ns.wouldRewrite}</span>`,
      `${percent(ns.mirrored, ns.mirrored + ns.thirdParty)}%`,
    ]);
    sections.push(
      section(
        'namespaces',
        'Namespaces',
        `<p>Mode is the namespace label <code>mirrorhook.io/mode</code>. “Would rewrite” counts the third-party containers the webhook rewrites once the namespace is in enforce mode (in audit mode: what it reports now).</p>
${table('Mode and containers per namespace', [{ label: 'namespace' }, { label: 'mode' }, { label: 'containers', numeric: true }, { label: 'mirrored', numeric: true }, { label: 'third-party', numeric: true }, { label: 'would rewrite', numeric: true }, { label: 'from mirror', numeric: true }], rows)}`,
      ),
    );
  }

  const risk = hub.pullsPer6h >= hub.freeLimit ? '⚠ over the free-account limit' : hub.pullsPer6h >= hub.anonymousLimit ? '⚠ over the anonymous limit' : '✓ under both limits';
  const registryRows = report.registries.map((row) => [
    escapeHtml(row.registry),
    `<span data-key="registries.${escapeHtml(row.registry)}.pulls">${row.pulls}</span>`,
    String(row.pullsPer6h),
    row.thirdParty ? 'third-party' : 'mirror',
  ]);
  sections.push(
    section(
      'registries',
      'Registries by pulls',
      `<p>Docker Hub: <strong data-key="dockerHub.pullsPer6h">${hub.pullsPer6h}</strong> pulls per 6 hours against ${hub.anonymousLimit} (anonymous) and ${hub.freeLimit} (free account): <span class="${hub.pullsPer6h >= hub.anonymousLimit ? 'bad' : 'ok'}">${risk}</span>.</p>
${shareBar('Docker Hub pulls per 6 hours against the anonymous limit', percent(hub.pullsPer6h, hub.anonymousLimit))}
${report.registries.length === 0 ? '<p class="muted">No pulls given (--cluster or --from-logs).</p>' : table('Pulls per source registry', [{ label: 'registry' }, { label: 'pulls', numeric: true }, { label: 'per 6 h', numeric: true }, { label: 'kind' }], registryRows)}`,
    ),
  );

  if (report.binauthz.length > 0) {
    const rows = report.binauthz.map((row) => [code(row.image), String(row.count), escapeHtml(row.rules.join(', ')), escapeHtml(row.namespaces.join(', '))]);
    sections.push(section('binauthz', 'Binary Authorization dry-run', table('Images the policy would have denied', [{ label: 'image' }, { label: 'times', numeric: true }, { label: 'rules' }, { label: 'namespaces' }], rows)));
  }

  const radios = filters
    .map((filter) => `<label><input type="radio" name="show" id="show-${filter.id}"${filter.id === 'all' ? ' checked' : ''}> ${escapeHtml(filter.label)}</label>`)
    .join(' ');
  const imageRows = report.list.map((image) => [
    code(image.source),
    code(image.target),
    standingCell(image),
    presenceCell(image),
    image.mirrorDigest === null ? '—' : code(image.mirrorDigest),
    escapeHtml(image.waiting ?? '—'),
    String(image.uses),
  ]);
  const rowAttributes = report.list.map((image) => ` data-standing="${escapeHtml(image.standing)}" data-in-mirror="${String(image.inMirror)}"`);
  sections.push(
    section(
      'images',
      'Images',
      `<fieldset><legend>Show</legend>${radios}</fieldset>
<div id="image-list">${table(`All ${report.list.length} images: source, mirror target, presence, digest`, [{ label: 'source' }, { label: 'mirror target' }, { label: 'standing' }, { label: 'in mirror' }, { label: 'mirror digest' }, { label: 'waiting for' }, { label: 'uses', numeric: true }], imageRows, rowAttributes)}</div>`,
    ),
  );
  return renderPage('mirrorhook migration report', `Generated ${generatedAt.toISOString()}`, sections, filterStyle);
}
