import type { Config } from '../config/schema.js';
import { parseMirrorRegistry } from '../mapping/index.js';
import type { RegistryClient } from '../registry/client.js';
import { type SyncRepositoryView, type SyncStatusView, ago } from '../sync/record.js';
import { readSyncStatus, uncheckedSyncStatus } from '../sync/record-store.js';
import { card, escapeHtml, section, table } from './page.js';

/** The report's `sync` part: undefined without `sync:` entries; not checked without a mirror client (--offline). */
export async function reportSyncStatus(config: Config, client: RegistryClient | undefined): Promise<SyncStatusView | undefined> {
  if (config.sync.length === 0) return undefined;
  const mirror = parseMirrorRegistry(config.mirror.registry);
  return client === undefined ? uncheckedSyncStatus(mirror) : readSyncStatus(client, mirror);
}

const code = (text: string | null): string => (text === null ? '—' : `<code>${escapeHtml(text)}</code>`);

function when(time: string | null, now: Date): string {
  if (time === null) return 'never';
  return `${escapeHtml(ago(time, now))}<br><time class="muted" datetime="${escapeHtml(time)}">${escapeHtml(time)}</time>`;
}

function successCell(row: SyncRepositoryView, now: Date, staleAfterHours: number): string {
  const marker = row.stale ? `<span class="bad" title="no success for ${staleAfterHours} h">⚠ stale</span> ` : '<span class="ok">✓</span> ';
  return `${marker}${when(row.lastSuccess, now)}`;
}

/**
 * "Kept current by sync", the same on the report and the status page: per repository of `sync:`, when it last
 * succeeded (relative to `now` and absolute), the last attempt, its failures, and a stale marker past the bound.
 */
export function syncSection(view: SyncStatusView, now: Date, notChecked: string): string {
  const parts: string[] = [];
  if (!view.checked) {
    parts.push(`<p class="muted">Not checked: ${escapeHtml(notChecked)}. The records are in <code>${escapeHtml(view.repository)}</code>.</p>`);
    return section('sync', 'Kept current by sync', parts.join('\n'));
  }
  if (view.error !== null) parts.push(`<p class="bad">⚠ The sync status records cannot be read: <code>${escapeHtml(view.error.code)}</code> ${escapeHtml(view.error.message)}</p>`);
  parts.push(
    `<div class="cards">${card('sync.stale', `stale of ${view.repositories.length} synced repositories`, view.stale)}${card('sync.staleAfterHours', 'stale after (hours without success)', view.staleAfterHours)}</div>`,
  );
  if (view.repositories.length === 0) {
    parts.push(`<p class="muted">No sync run has recorded its outcome in <code>${escapeHtml(view.repository)}</code> yet.</p>`);
  } else {
    const rows = view.repositories.map((row) => [
      code(row.source),
      code(row.target),
      successCell(row, now, view.staleAfterHours),
      when(row.lastAttempt, now),
      String(row.counts.failed),
      row.lastError === null ? '—' : `<span class="bad">${escapeHtml(row.lastError.code)}</span>: ${escapeHtml(row.lastError.message)}`,
      escapeHtml(row.shard),
    ]);
    parts.push(
      `<p>From the records <code>mirrorhook sync</code> leaves in <code>${escapeHtml(view.repository)}</code>, read ${escapeHtml(view.checkedAt ?? '')}. Stale: no run without a failure for ${view.staleAfterHours} hours.</p>
${table(
  'When each synced repository last succeeded',
  [{ label: 'repository' }, { label: 'mirror target' }, { label: 'last success' }, { label: 'last attempt' }, { label: 'failed', numeric: true }, { label: 'last error' }, { label: 'record' }],
  rows,
  view.repositories.map((row) => ` data-stale="${String(row.stale)}"`),
)}`,
    );
  }
  return section('sync', 'Kept current by sync', parts.join('\n'));
}
