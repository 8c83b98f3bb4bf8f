/**
 * The page of a site written by `fleximodal export --format web` (docs/EXPORT.md). It loads the
 * model from the site's own files, lets a person drop a FlexiModal JSONL file or paste a record,
 * and shows each prediction (risk or class probabilities), its explanation as bars (every
 * per-modality field of the explanation, the top experts), a warning for records with no
 * modality, and the run's per-group test metrics. It fetches nothing but its own files (the
 * page's Content-Security-Policy forbids anything else) and sends nothing anywhere.
 */
import { initBrowserEngine, fastKernelsInUse, BrowserPredictor, type Prediction, type ModelMeta, type Sample } from './index.js';

/** `site.json`, written by the exporter beside index.html. */
interface SiteManifest {
  format: 'fleximodal-web-site';
  version: 1;
  /** Model directory, relative to the page. */
  model: string;
  /** Run metrics (metrics.json), relative to the page, when the run had them. */
  metrics?: string;
  /** Where the wasm binaries are, relative to the page. */
  wasm: string;
}

/** What the page exposes for tests and the benchmark (window.fleximodalPage). */
export interface PageHandle {
  predictor: BrowserPredictor;
  /** ms from navigation start until the model was loaded and the page ready. */
  readyAt: number;
  /** Parse a JSONL text (as a dropped file) and show its predictions; returns them. */
  showJsonl(text: string, name: string): Prediction[];
  /** The predictions on screen. */
  predictions(): Prediction[];
  /** The engine's fast wasm kernels registered in this page. */
  fastKernels: string[];
}

declare global {
  interface Window {
    fleximodalPage?: PageHandle;
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function byId(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page: #${id} is missing from index.html`);
  return e;
}

const fmt = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : '—');

/** One labelled bar: width = |value| / scale; negative values are drawn in another colour. */
function barRow(label: string, value: number, scale: number, text = fmt(value)): HTMLElement {
  const row = el('div', { class: 'bar-row', 'data-label': label, 'data-value': String(value) });
  row.append(el('span', { class: 'bar-label', title: label }, label));
  const track = el('span', { class: 'bar-track' });
  const bar = el('span', { class: value < 0 ? 'bar negative' : 'bar' });
  const w = scale > 0 ? Math.min(1, Math.abs(value) / scale) : 0;
  bar.style.width = `${(w * 100).toFixed(2)}%`;
  track.append(bar);
  row.append(track, el('span', { class: 'bar-value' }, text));
  return row;
}

/**
 * A titled group of bars. Default scale: 1 for shares (non-negative, summing to 1), so bars read
 * as fractions of the whole; else the largest magnitude (e.g. signed attributions).
 */
function barGroup(title: string, kind: string, rows: [string, number][], scale?: number): HTMLElement {
  const g = el('div', { class: 'bar-group', 'data-kind': kind });
  g.append(el('h3', {}, title));
  const total = rows.reduce((a, [, v]) => a + v, 0);
  const shares = rows.every(([, v]) => v >= 0) && Math.abs(total - 1) < 1e-3;
  const s = scale ?? (shares ? 1 : Math.max(0, ...rows.map(([, v]) => Math.abs(v))));
  for (const [label, v] of rows) g.append(barRow(label, v, s));
  return g;
}

/** `{ name: number }` with at least one entry. */
function isNumberRecord(v: unknown): v is Record<string, number> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 && Object.values(v).every((x) => typeof x === 'number');
}

/** Titles of the explanation fields the page knows (by path); others get a title from their name. */
const TITLES: Record<string, string> = {
  modalityShares: 'Gate weight per modality (routing)',
  'attribution.byModality': 'Per-modality attribution: p(record) − p(record without the modality)',
  'routing.shares': 'Routing share per modality',
  topExperts: 'Top experts (share of gate weight)',
  'routing.topExperts': 'Top experts (share of gate weight)',
  retrieved: 'Retrieved for missing modalities',
  'routing.retrieved': 'Retrieved for missing modalities',
};

/** Scalar fields that describe a group rather than being drawn (shown in its title). */
const DESCRIPTIVE = new Set(['id', 'target', 'probability', 'basis']);

/** "attribution.byOutput" → "Attribution · by output" for fields the page does not know by name. */
function humanize(path: string): string {
  return path
    .split('.')
    .map((k) => k.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase())
    .join(' · ')
    .replace(/^./, (c) => c.toUpperCase());
}

interface ExpertEntry {
  layer: number;
  expert: number;
  weight: number;
  member?: number;
  modalityShares?: Record<string, number>;
  shares?: Record<string, number>;
}

interface RetrievedEntry {
  modality: string;
  pool: string;
  intraContext: number;
  interContext: number;
  experts: { expert: string; weight: number }[];
}

/**
 * The explanation as bar groups, whatever its shape (routing statistics at the top level, or
 * nested under `attribution` / `routing`): every `{ name: number }` field becomes a group of bars
 * (`data-kind` = its path), `topExperts` the expert bars, `retrieved` what an MoE-Retriever
 * retrieved; nested objects are walked. Scalars such as `basis` go into their group's title.
 */
function renderExplanation(expl: Record<string, unknown>, prefix = ''): HTMLElement[] {
  const out: HTMLElement[] = [];
  const basis = typeof expl['basis'] === 'string' ? ` (basis: ${expl['basis']})` : '';
  for (const [key, value] of Object.entries(expl)) {
    if (DESCRIPTIVE.has(key)) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    const title = (TITLES[path] ?? humanize(path)) + (key === 'shares' ? basis : '');
    if (key === 'topExperts' && Array.isArray(value)) {
      if (!value.length) continue;
      const rows = (value as ExpertEntry[]).map((e): [string, number] => {
        const mix = e.modalityShares ?? e.shares;
        const mods = mix ? Object.entries(mix).filter(([, v]) => v > 0.05).map(([m]) => m) : [];
        return [`${e.member !== undefined ? `member ${e.member} · ` : ''}layer ${e.layer} · expert ${e.expert}${mods.length ? ` (${mods.join(', ')})` : ''}`, e.weight];
      });
      out.push(barGroup(title, path, rows, 1));
    } else if (key === 'retrieved' && Array.isArray(value)) {
      if (!value.length) continue;
      const g = el('div', { class: 'bar-group', 'data-kind': path });
      g.append(el('h3', {}, title));
      for (const r of value as RetrievedEntry[]) {
        g.append(el('p', { class: 'note' }, `${r.modality}: ${r.pool} pool, ${r.intraContext} intra- / ${r.interContext} inter-modal context`));
        for (const e of r.experts) g.append(barRow(`${r.modality} → ${e.expert}`, e.weight, 1));
      }
      out.push(g);
    } else if (isNumberRecord(value)) {
      out.push(barGroup(title, path, Object.entries(value)));
    } else if (value && typeof value === 'object' && !Array.isArray(value)) {
      out.push(...renderExplanation(value as Record<string, unknown>, path));
    }
  }
  return out;
}

/** The probability bars of one prediction. */
function renderProbabilities(p: Prediction, meta: ModelMeta): HTMLElement {
  if (meta.spec.task.kind === 'binary') return barGroup(`Risk of ${meta.spec.task.name}`, 'risk', [[meta.spec.task.name, p.risk ?? NaN]], 1);
  const rows = Object.entries(p.probs).sort((a, b) => b[1] - a[1]);
  return barGroup(meta.spec.task.kind === 'multiclass' ? 'Class probabilities' : 'Label probabilities', 'probs', rows, 1);
}

const NO_MODALITY_TEXT = 'This record has no modality at all: the prediction is the model’s prior, not evidence about this record.';

class Page {
  private shown: Prediction[] = [];
  private samples: Sample[] = [];
  readonly readyAt: number;

  constructor(
    readonly predictor: BrowserPredictor,
    readyAt: number,
  ) {
    this.readyAt = readyAt;
  }

  /** Predict samples and show them (the first one in detail). */
  show(samples: Sample[], counts: Record<string, number>, source: string): Prediction[] {
    const preds = samples.length ? this.predictor.predict(samples, { explain: true }) : [];
    this.shown = preds;
    this.samples = samples;
    const empty = preds.filter((p) => p.noModality).length;
    const summary = byId('summary');
    summary.textContent = `${preds.length} record(s) from ${source}.`;
    if (empty) summary.append(el('span', { class: 'warning', id: 'no-modality-count' }, ` ⚠ ${empty} record(s) with no modality (prior only).`));
    const dropped = Object.entries(counts).filter(([, n]) => n > 0);
    if (dropped.length) summary.append(el('span', { class: 'note' }, ` Input cleaning: ${dropped.map(([k, n]) => `${k} ${n}`).join('; ')}.`));
    const body = byId('predictions-body');
    body.replaceChildren();
    const meta = this.predictor.meta;
    preds.forEach((p, i) => {
      const tr = el('tr', { class: 'prediction', 'data-id': p.id, 'data-probs': JSON.stringify(p.probs), tabindex: '0' });
      tr.append(el('td', {}, p.id));
      const cell = el('td');
      let predicted: string;
      if (meta.spec.task.kind === 'binary') {
        cell.append(barRow('risk', p.risk ?? NaN, 1));
        predicted = p.predicted === true ? 'positive' : 'negative';
      } else {
        const [best, prob] = Object.entries(p.probs).sort((a, b) => b[1] - a[1])[0]!;
        cell.append(barRow(best, prob, 1));
        predicted = best;
      }
      tr.append(el('td', { class: 'predicted' }, predicted), cell, el('td', { class: 'warning' }, p.noModality ? '⚠ no modality' : ''));
      tr.addEventListener('click', () => this.detail(i));
      tr.addEventListener('keydown', (ev) => ev.key === 'Enter' && this.detail(i));
      body.append(tr);
    });
    if (preds.length) this.detail(0);
    else byId('explanation').replaceChildren(el('p', { class: 'note' }, 'No records.'));
    return preds;
  }

  /** Show prediction i in detail. */
  detail(i: number): void {
    const p = this.shown[i]!;
    document.querySelectorAll('tr.prediction').forEach((r, j) => r.classList.toggle('selected', j === i));
    const box = byId('explanation');
    box.replaceChildren(el('h3', { class: 'record-id' }, `Record ${p.id}`));
    if (p.noModality) box.append(el('p', { class: 'warning', id: 'no-modality-warning', role: 'alert' }, `⚠ ${NO_MODALITY_TEXT}`));
    const present = Object.keys(this.samples[i]?.modalities ?? {});
    if (present.length) box.append(el('p', { class: 'note' }, `Modalities present: ${present.join(', ')}`));
    box.append(renderProbabilities(p, this.predictor.meta));
    if (p.explanation) {
      const parts = renderExplanation(p.explanation as unknown as Record<string, unknown>);
      const wrap = el('div', { class: 'explanation' });
      wrap.append(...parts);
      box.append(wrap);
    } else {
      box.append(el('p', { class: 'note' }, `This ${this.predictor.model.type} model gives no explanation.`));
    }
  }

  predictions(): Prediction[] {
    return this.shown;
  }
}

/** The run's metrics: the test split (or the first split there is), overall and per group. */
function renderMetrics(m: Record<string, unknown>): HTMLElement {
  const box = el('div');
  const splits = ['test', 'external', 'val', 'train'].filter((s) => m[s] && typeof m[s] === 'object');
  const split = splits[0];
  if (!split) {
    box.append(el('p', { class: 'note' }, 'metrics.json has no evaluated split.'));
    return box;
  }
  const names = ['auroc', 'auprc', 'f1', 'accuracy', 'brier'];
  const cell = (v: unknown): string => {
    const s = v as { mean?: number | null; std?: number | null } | undefined;
    if (!s || s.mean === null || s.mean === undefined) return '—';
    return s.std ? `${fmt(s.mean)} ± ${fmt(s.std)}` : fmt(s.mean);
  };
  const table = el('table', { id: 'metrics-table' });
  const head = el('tr');
  for (const h of ['group', 'n', ...names]) head.append(el('th', {}, h));
  table.append(head);
  const overall = m[split] as Record<string, unknown>;
  const addRow = (name: string, n: unknown, row: Record<string, unknown>, cls: string) => {
    const tr = el('tr', { class: cls, 'data-group': name });
    const count = typeof n === 'number' ? n : (n as { mean?: number } | undefined)?.mean;
    tr.append(el('td', {}, name), el('td', {}, count === undefined ? '—' : String(Math.round(count))));
    for (const k of names) tr.append(el('td', {}, cell(row[k])));
    table.append(tr);
  };
  addRow(`all (${split})`, overall['n'], overall, 'overall');
  const groups = ((m['groups'] as Record<string, unknown> | undefined)?.[split] ?? {}) as Record<string, Record<string, unknown>>;
  // groups of fewer than MIN_GROUP_N samples have noisy metrics; they are counted, not listed
  const MIN_GROUP_N = 5;
  const sorted = Object.entries(groups).sort((a, b) => Number(b[1]['n'] ?? 0) - Number(a[1]['n'] ?? 0));
  const listed = sorted.filter(([, row]) => Number(row['n'] ?? 0) >= MIN_GROUP_N);
  listed.forEach(([g, row]) => addRow(g, row['n'], row, 'group'));
  const hidden = sorted.length - listed.length;
  box.append(el('p', { class: 'note' }, `Split “${split}” of the training run, mean ± std over seeds; one row per modality combination with at least ${MIN_GROUP_N} samples${hidden ? ` (${hidden} smaller combination(s) not listed)` : ''}.`), table);
  return box;
}

function describeModel(meta: ModelMeta): string {
  const t = meta.spec.task;
  const task = t.kind === 'binary' ? `binary (${t.name})` : t.kind === 'multiclass' ? `${t.classes.length} classes` : `${t.labels.length} labels`;
  const mods = meta.spec.modalities.map((m) => `${m.name} (${m.kind})`).join(', ');
  return `${meta.model.type} model on “${meta.spec.name}”, ${task}; modalities: ${mods}; fleximodal ${meta.fleximodal}.`;
}

function showError(where: string, e: unknown): void {
  const box = byId(where);
  box.textContent = (e as Error).message ?? String(e);
  box.hidden = false;
}

async function fetchJson(url: string): Promise<unknown> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

async function main(): Promise<void> {
  const status = byId('status');
  const site = (await fetchJson('./site.json')) as SiteManifest;
  await initBrowserEngine({ wasmPaths: site.wasm });
  const predictor = await BrowserPredictor.fromUrl(site.model);
  const page = new Page(predictor, performance.now());
  byId('model-info').textContent = describeModel(predictor.meta);
  document.title = `fleximodal · ${predictor.meta.spec.name}`;
  if (site.metrics) {
    try {
      byId('metrics-body').replaceChildren(renderMetrics((await fetchJson(site.metrics)) as Record<string, unknown>));
    } catch (e) {
      byId('metrics-body').textContent = `Could not read the run metrics: ${(e as Error).message}`;
    }
  } else {
    byId('metrics-body').textContent = 'The exported model had no metrics.json beside it.';
  }

  const inputError = byId('input-error');
  const run = (text: string, name: string): Prediction[] => {
    inputError.hidden = true;
    try {
      const { samples, counts } = predictor.parseJsonl(text, name);
      return page.show(samples, counts, name);
    } catch (e) {
      showError('input-error', e);
      return [];
    }
  };
  const readFile = async (f: File) => run(await f.text(), f.name);
  const fileInput = byId('file') as HTMLInputElement;
  fileInput.addEventListener('change', () => {
    const f = fileInput.files?.[0];
    if (f) void readFile(f);
  });
  const drop = byId('drop');
  drop.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    const f = ev.dataTransfer?.files?.[0];
    if (f) void readFile(f);
  });
  byId('predict-paste').addEventListener('click', () => {
    const text = (byId('paste') as HTMLTextAreaElement).value.trim();
    if (!text) return;
    // One record (possibly over several lines) or JSON Lines.
    let one: unknown;
    try {
      one = JSON.parse(text);
    } catch {
      one = undefined;
    }
    if (one && typeof one === 'object' && !Array.isArray(one) && !('fleximodal' in one)) {
      inputError.hidden = true;
      try {
        page.show(predictor.parse([one], undefined).map((s) => ({ ...s, source: 'pasted record' })), {}, 'the pasted record');
      } catch (e) {
        showError('input-error', e);
      }
    } else run(text, 'pasted text');
  });
  window.fleximodalPage = { predictor, readyAt: page.readyAt, showJsonl: run, predictions: () => page.predictions(), fastKernels: fastKernelsInUse() };
  status.textContent = `Ready: runs in this page (WebAssembly), nothing is sent anywhere.`;
  status.dataset.state = 'ready';
}

main().catch((e: unknown) => {
  const status = document.getElementById('status');
  if (status) {
    status.textContent = `Could not start: ${(e as Error).message ?? String(e)}`;
    status.dataset.state = 'error';
  }
});
