/**
 * leaderboard.md: per dataset × protocol, the ranked methods with mean ± std over seeds, the paired
 * bootstrap intervals against the best method and the late-fusion baseline, head / tail and the
 * external column, then the per-group table of the ranked metric (with each group's n).
 */
import type { DifferenceInterval } from './bootstrap.js';
import type { Leaderboard, MethodEntry, ProtocolBoard } from './leaderboard.js';
import type { MetricSummary } from '../eval/aggregate.js';

/** Groups with fewer test samples than this are left out of the Markdown group table (all are in the JSON and HTML). */
export const MIN_GROUP_N_MD = 10;

/** "0.812 ± 0.004" (3 decimals), "—" when undefined. */
export function meanStd(s: MetricSummary | null | undefined, digits = 3): string {
  if (!s || s.mean === null) return '—';
  return s.std === null || s.seeds.length < 2 ? s.mean.toFixed(digits) : `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;
}

/** "+0.012 [+0.003, +0.020] *" (the star: the interval excludes zero), "—" when absent. */
export function intervalText(d: DifferenceInterval | null): string {
  if (!d || !Number.isFinite(d.diff)) return '—';
  const f = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);
  return `${f(d.diff)} [${f(d.lo)}, ${f(d.hi)}]${d.excludesZero ? ' *' : ''}`;
}

function row(cells: string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
}

/** Methods in rank order, unranked (no result) last. */
export function rankedMethods(b: ProtocolBoard): MethodEntry[] {
  return b.methods.slice().sort((x, y) => (x.rank ?? 1e9) - (y.rank ?? 1e9));
}

/** The groups of a board, largest first. */
export function boardGroups(b: ProtocolBoard, minN = 0): string[] {
  return Object.entries(b.groupN)
    .filter(([, n]) => n >= minN)
    .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))
    .map(([g]) => g);
}

function boardMarkdown(b: ProtocolBoard, level: number): string[] {
  const pct = Math.round(level * 100);
  const hasExternal = b.methods.some((m) => m.metrics.external);
  const lines = [
    `### ${b.dataset} — ${b.protocol}`,
    '',
    `${b.protocolLabel}. Ranked by ${b.part === 'heldout-test' ? 'held-out (unseen) combination' : 'test'} ${b.metric}${b.n !== null ? ` (n = ${b.n})` : ''}; Δ = paired bootstrap difference with its ${pct} % interval (* = excludes zero).${b.intervalNote ? ` ${b.intervalNote}.` : ''}`,
    '',
    row(['rank', 'method', b.metric, `Δ vs best (${b.best ?? '—'})`, 'Δ vs late-fusion', `head ${b.metric}`, `tail ${b.metric}`, ...(hasExternal ? [`external ${b.metric}`] : []), 'seeds', 's / cell']),
    row(['---', '---', '---', '---', '---', '---', '---', ...(hasExternal ? ['---'] : []), '---', '---']),
  ];
  for (const m of rankedMethods(b)) {
    const missing = m.missing.length ? ` (${m.missing.length} cell(s) without result: ${m.missing[0]!.reason.slice(0, 60)}…)` : '';
    lines.push(
      row([
        m.rank === null ? '—' : String(m.rank),
        m.method + missing,
        meanStd(m.primary),
        m.method === b.best ? 'best' : intervalText(m.vsBest),
        m.method === 'late-fusion' ? 'baseline' : intervalText(m.vsBaseline),
        meanStd(m.longTail?.head[b.metric]),
        meanStd(m.longTail?.tail[b.metric]),
        ...(hasExternal ? [meanStd(m.metrics.external?.[b.metric])] : []),
        m.seeds.join(',') || '—',
        m.secondsPerCell === null ? '—' : m.secondsPerCell.toFixed(0),
      ]),
    );
  }
  const groups = boardGroups(b, MIN_GROUP_N_MD);
  if (groups.length > 1 || (groups.length === 1 && b.part === 'heldout-test')) {
    lines.push('', `Per modality combination (${b.metric}; groups with n ≥ ${MIN_GROUP_N_MD}, n in the header):`, '');
    lines.push(row(['method', ...groups.map((g) => `${g} (n=${b.groupN[g]})`)]));
    lines.push(row(['---', ...groups.map(() => '---')]));
    for (const m of rankedMethods(b)) lines.push(row([m.method, ...groups.map((g) => meanStd(m.groups[g]?.[b.metric] as MetricSummary | undefined))]));
  }
  lines.push('');
  return lines;
}

/** The whole leaderboard as Markdown. */
export function leaderboardMarkdown(lb: Leaderboard): string {
  const lines = [
    `# Benchmark leaderboard — ${lb.suite} suite`,
    '',
    `Seeds ${lb.seeds.join(', ')}; mean ± std over seeds. Cells: ${lb.cells.finished} of ${lb.cells.total} finished${lb.cells.failed.length ? `, ${lb.cells.failed.length} failed` : ''}; ` +
      `${(lb.cellSeconds / 60).toFixed(1)} min of cell wall time. Intervals: paired bootstrap on the same test samples, ${lb.bootstrap.reps} replicates, seed ${lb.bootstrap.seed}.`,
    '',
    ...lb.datasets.map((d) => `- **${d.id}**: ${d.label}; ranked by ${d.metric}`),
    '',
  ];
  if (lb.skipped.length) lines.push('Skipped:', '', ...lb.skipped.map((s) => `- ${s.what}: ${s.reason}`), '');
  if (lb.cells.failed.length) {
    const reasons = new Map<string, string[]>();
    for (const f of lb.cells.failed) reasons.set(f.reason, [...(reasons.get(f.reason) ?? []), f.cell]);
    lines.push('Failed cells:', '', ...[...reasons.entries()].map(([r, cells]) => `- ${cells.length} cell(s) (${cells[0]}${cells.length > 1 ? ', …' : ''}): ${r}`), '');
  }
  for (const d of lb.datasets) {
    lines.push(`## ${d.id}`, '');
    for (const b of lb.boards.filter((x) => x.dataset === d.id)) lines.push(...boardMarkdown(b, lb.bootstrap.level));
  }
  return lines.join('\n') + '\n';
}
