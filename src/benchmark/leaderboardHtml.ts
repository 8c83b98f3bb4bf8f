/**
 * leaderboard.html: one static, self-contained page (no server, no external resource): per
 * dataset × protocol a sortable table of the methods (click a header; every cell carries its
 * numeric value in data-value) and a method × modality-combination heat-map of the ranked metric
 * with each group's n in its header.
 */
import type { MetricSummary } from '../eval/aggregate.js';
import type { Leaderboard, ProtocolBoard } from './leaderboard.js';
import { boardGroups, intervalText, meanStd, rankedMethods } from './leaderboardMarkdown.js';

/** HTML-escape text. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A table cell with its sort value (empty = sorts last). */
function td(text: string, value: number | string | null | undefined, attrs = ''): string {
  const v = value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value)) ? '' : String(value);
  return `<td data-value="${esc(v)}"${attrs}>${esc(text)}</td>`;
}

/** Heat-map colour of a value in [lo, hi]: white (lo) to blue (hi). */
export function heatColour(value: number, lo: number, hi: number): string {
  const t = hi > lo ? Math.min(1, Math.max(0, (value - lo) / (hi - lo))) : 0.5;
  const light = Math.round(97 - 45 * t);
  return `hsl(215, 70%, ${light}%)`;
}

function boardHtml(b: ProtocolBoard, level: number): string {
  const id = `${b.dataset}--${b.protocol}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const hasExternal = b.methods.some((m) => m.metrics.external);
  const heads = ['rank', 'method', b.metric, 'Δ vs best', 'Δ vs late-fusion', `head ${b.metric}`, `tail ${b.metric}`, ...(hasExternal ? [`external ${b.metric}`] : []), 'seeds', 's / cell'];
  const rows = rankedMethods(b).map((m) => {
    const cells = [
      td(m.rank === null ? '—' : String(m.rank), m.rank),
      td(m.method, m.method, ` title="${esc(m.label + (m.missing.length ? ` — missing: ${m.missing.map((x) => `${x.cell}: ${x.reason}`).join('; ')}` : ''))}"`),
      td(meanStd(m.primary), m.primary?.mean),
      td(m.method === b.best ? 'best' : intervalText(m.vsBest), m.vsBest?.diff ?? (m.method === b.best ? 0 : null), m.vsBest?.excludesZero ? ' class="sig"' : ''),
      td(m.method === 'late-fusion' ? 'baseline' : intervalText(m.vsBaseline), m.vsBaseline?.diff ?? (m.method === 'late-fusion' ? 0 : null), m.vsBaseline?.excludesZero ? ' class="sig"' : ''),
      td(meanStd(m.longTail?.head[b.metric]), m.longTail?.head[b.metric]?.mean),
      td(meanStd(m.longTail?.tail[b.metric]), m.longTail?.tail[b.metric]?.mean),
      ...(hasExternal ? [td(meanStd(m.metrics.external?.[b.metric]), m.metrics.external?.[b.metric]?.mean)] : []),
      td(m.seeds.join(',') || '—', m.seeds.length),
      td(m.secondsPerCell === null ? '—' : m.secondsPerCell.toFixed(0), m.secondsPerCell),
    ];
    return `<tr>${cells.join('')}</tr>`;
  });
  const groups = boardGroups(b);
  const values = rankedMethods(b).flatMap((m) => groups.map((g) => (m.groups[g]?.[b.metric] as MetricSummary | undefined)?.mean).filter((v): v is number => typeof v === 'number'));
  const lo = values.length ? Math.min(...values) : 0;
  const hi = values.length ? Math.max(...values) : 1;
  const heat = rankedMethods(b).map((m) => {
    const cells = groups.map((g) => {
      const s = m.groups[g]?.[b.metric] as MetricSummary | undefined;
      const v = s?.mean;
      return typeof v === 'number'
        ? `<td class="heat" data-group="${esc(g)}" data-value="${v}" style="background:${heatColour(v, lo, hi)}" title="${esc(`${m.method} on ${g}: ${meanStd(s)} (n = ${b.groupN[g]})`)}">${v.toFixed(3)}</td>`
        : `<td class="heat" data-group="${esc(g)}" data-value="">—</td>`;
    });
    return `<tr><th scope="row">${esc(m.method)}</th>${cells.join('')}</tr>`;
  });
  return `<section class="board" id="${id}" data-dataset="${esc(b.dataset)}" data-protocol="${esc(b.protocol)}">
<h3>${esc(b.dataset)} — ${esc(b.protocol)}</h3>
<p>${esc(b.protocolLabel)}. Ranked by ${b.part === 'heldout-test' ? 'held-out (unseen) combination' : 'test'} ${esc(b.metric)}${b.n !== null ? ` (n = ${b.n})` : ''}; Δ = paired bootstrap difference, ${Math.round(level * 100)} % interval; highlighted = excludes zero.${b.intervalNote ? ' ' + esc(b.intervalNote) + '.' : ''}</p>
<table class="sortable"><thead><tr>${heads.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
<h4>${esc(b.metric)} per modality combination (n per group in the header)</h4>
<table class="heatmap"><thead><tr><th scope="col">method</th>${groups.map((g) => `<th scope="col" data-n="${b.groupN[g]}">${esc(g)}<br><small>n=${b.groupN[g]}</small></th>`).join('')}</tr></thead>
<tbody>
${heat.join('\n')}
</tbody></table>
</section>`;
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2em;max-width:100em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right;font-variant-numeric:tabular-nums}
td:nth-child(2),th[scope=row]{text-align:left}.sortable th{cursor:pointer;background:#f3f3f3}.sortable th:hover{background:#e0e8f5}
td.sig{font-weight:bold;background:#fff6d5}.heatmap{font-size:.85em}small{color:#555}`;

/** Sorting: a click on a header sorts the table body by that column's data-value (numbers numerically), again to reverse. */
const SCRIPT = `document.querySelectorAll('table.sortable').forEach(function(t){
t.querySelectorAll('thead th').forEach(function(th,i){th.addEventListener('click',function(){
var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows),asc=th.getAttribute('data-sort')!=='asc';
t.querySelectorAll('thead th').forEach(function(h){h.removeAttribute('data-sort')});th.setAttribute('data-sort',asc?'asc':'desc');
rows.sort(function(a,b){var x=a.cells[i].getAttribute('data-value'),y=b.cells[i].getAttribute('data-value');
if(x===''&&y==='')return 0;if(x==='')return 1;if(y==='')return -1;var nx=Number(x),ny=Number(y);
var c=(isNaN(nx)||isNaN(ny))?x.localeCompare(y):nx-ny;return asc?c:-c});
rows.forEach(function(r){body.appendChild(r)})})})});`;

/** The whole leaderboard as one static HTML page. */
export function leaderboardHtml(lb: Leaderboard): string {
  const sections = lb.datasets.map((d) => `<h2>${esc(d.id)}</h2>\n<p>${esc(d.label)}; ranked by ${esc(d.metric)}.</p>\n${lb.boards.filter((b) => b.dataset === d.id).map((b) => boardHtml(b, lb.bootstrap.level)).join('\n')}`);
  const skipped = lb.skipped.length ? `<p>Skipped:</p><ul>${lb.skipped.map((s) => `<li>${esc(s.what)}: ${esc(s.reason)}</li>`).join('')}</ul>` : '';
  const failed = lb.cells.failed.length ? `<p>${lb.cells.failed.length} failed cell(s):</p><ul>${lb.cells.failed.slice(0, 50).map((f) => `<li>${esc(f.cell)}: ${esc(f.reason)}</li>`).join('')}</ul>` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>fleximodal benchmark — ${esc(lb.suite)}</title><style>${STYLE}</style></head>
<body>
<h1>fleximodal benchmark — ${esc(lb.suite)} suite</h1>
<p>Seeds ${esc(lb.seeds.join(', '))}; mean ± std over seeds. Cells: ${lb.cells.finished} of ${lb.cells.total} finished. Paired bootstrap: ${lb.bootstrap.reps} replicates, seed ${lb.bootstrap.seed}. Written ${esc(lb.createdAt)}.</p>
${skipped}${failed}
${sections.join('\n')}
<script>${SCRIPT}</script>
</body></html>
`;
}
