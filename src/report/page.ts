import { createHash } from 'node:crypto';

/**
 * The look shared by the report file and the live status page: one HTML document with inline CSS, inline SVG
 * charts and one small inline script (table sorting) allowed by its hash. Nothing is fetched: the page opens
 * from disk and works under the CSP it carries; without the script every table still reads, in its first order.
 */
const style = `
:root{color-scheme:light dark;--ok:#1a7f37;--bad:#b35900;--muted:#6b6b6b;--line:#c8c8c8}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:1rem;max-width:72rem}
h1{font-size:1.5rem;margin:.2rem 0 .3rem}h2{font-size:1.15rem;margin:1.8rem 0 .5rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9.5rem,1fr));gap:.6rem}
.card{border:1px solid var(--line);border-radius:6px;padding:.5rem .6rem}
.card strong{display:block;font-size:1.5rem}
.wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%}caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border-bottom:1px solid var(--line);padding:.3rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere;word-break:break-word}
thead th{white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:var(--ok)}.bad{color:var(--bad)}.muted{color:var(--muted)}
svg{max-width:100%;height:auto;vertical-align:middle}
button.sort{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:inherit}
fieldset{border:1px solid var(--line);border-radius:6px;margin:.5rem 0;display:flex;flex-wrap:wrap;gap:.2rem 1rem}
code{overflow-wrap:anywhere}
`;

/** Sorts a table by the clicked column (numbers by value); toggles the direction on a second click. */
const script = `document.querySelectorAll('button.sort').forEach(function(b){b.addEventListener('click',function(){
var th=b.closest('th'),table=th.closest('table'),i=Array.prototype.indexOf.call(th.parentNode.children,th),body=table.tBodies[0];
var dir=th.getAttribute('aria-sort')==='ascending'?-1:1;table.querySelectorAll('thead th').forEach(function(h){h.removeAttribute('aria-sort')});
th.setAttribute('aria-sort',dir===1?'ascending':'descending');
var rows=Array.prototype.slice.call(body.rows);rows.sort(function(x,y){var a=x.cells[i].textContent.trim(),c=y.cells[i].textContent.trim();
var na=parseFloat(a),nc=parseFloat(c);return dir*(!isNaN(na)&&!isNaN(nc)?na-nc:a.localeCompare(c))});rows.forEach(function(r){body.appendChild(r)})})});`;

const scriptHash = createHash('sha256').update(script).digest('base64');

/** Nothing but this page's own inline style and its one script (by hash) may run; nothing may be fetched. */
export const pageCsp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'; img-src data:; base-uri 'none'; form-action 'none'`;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A share in percent with one decimal; an empty whole counts as done (nothing left to move). */
export function percent(part: number, whole: number): number {
  return whole === 0 ? 100 : Math.round((part / whole) * 1000) / 10;
}

/** A horizontal bar with its number written next to it: colour is never the only signal. */
export function shareBar(label: string, share: number): string {
  const width = Math.max(0, Math.min(100, share)) * 2.4;
  return `<svg role="img" aria-label="${escapeHtml(label)}: ${share}%" viewBox="0 0 320 22" width="320" height="22">` +
    `<rect x="0" y="3" width="240" height="16" fill="#d9d9d9"/><rect x="0" y="3" width="${width.toFixed(1)}" height="16" fill="#1a7f37"/>` +
    `<text x="248" y="16" font-size="13" fill="currentColor">${share}%</text></svg>`;
}

/** A number on a card; `key` names it for tests and scripts (the JSON path of the same number). */
export function card(key: string, label: string, value: number | string): string {
  return `<div class="card"><span>${escapeHtml(label)}</span><strong data-key="${escapeHtml(key)}">${escapeHtml(String(value))}</strong></div>`;
}

export interface Column {
  readonly label: string;
  readonly numeric?: boolean;
}

/** A data table with a caption, column headers (scope=col, sortable) and a row header (scope=row) per row. */
export function table(caption: string, columns: readonly Column[], rows: readonly (readonly string[])[], rowAttributes: readonly string[] = []): string {
  const head = columns
    .map((column) => `<th scope="col"${column.numeric === true ? ' class="n"' : ''}><button type="button" class="sort">${escapeHtml(column.label)}</button></th>`)
    .join('');
  const body = rows
    .map((cells, index) => {
      const [first = '', ...rest] = cells;
      const tds = rest.map((cell, column) => `<td${columns[column + 1]?.numeric === true ? ' class="n"' : ''}>${cell}</td>`).join('');
      return `<tr${rowAttributes[index] ?? ''}><th scope="row">${first}</th>${tds}</tr>`;
    })
    .join('\n');
  return `<div class="wrap"><table><caption>${escapeHtml(caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

export function section(id: string, heading: string, content: string): string {
  return `<section aria-labelledby="${id}"><h2 id="${id}">${escapeHtml(heading)}</h2>\n${content}\n</section>`;
}

/** The whole document around the sections; `extraStyle` is page-specific CSS (filters). */
export function renderPage(title: string, subtitle: string, sections: readonly string[], extraStyle = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${pageCsp}">
<title>${escapeHtml(title)}</title><style>${style}${extraStyle}</style></head>
<body><header><h1>${escapeHtml(title)}</h1><p class="muted">${escapeHtml(subtitle)}</p></header>
<main>
${sections.join('\n')}
</main><script>${script}</script></body></html>
`;
}
