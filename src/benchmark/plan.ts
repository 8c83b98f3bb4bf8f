/**
 * Cell planning: dataset × protocol × method × seed → one cell = one ordinary run config (the
 * dataset's data, the protocol's missingness / split keys, the method's model and recipe, the
 * suite's schedule, one seed) and its run directory `<out>/cells/<dataset>/<protocol>/<method>/seed-<s>`.
 */
import { join } from 'node:path';
import { FlexiModalError } from '../errors.js';
import { parseConfig } from '../config/parse.js';
import type { DatasetDef } from './datasets.js';
import { protocolsOf, type ProtocolDef, type ProtocolFamily } from './protocols.js';
import { unknownModelTypeMessage, type MethodDef } from './methods.js';
import type { SuiteDef } from './suites.js';

/** One cell of the benchmark (JSON-serialisable: it travels to child processes and queue workers). */
export interface CellSpec {
  /** `<dataset>/<protocol>/<method>/seed-<s>`. */
  id: string;
  dataset: string;
  protocol: string;
  method: string;
  seed: number;
  /** Which predictions rank the cell: the test split or the held-out groups' test part. */
  part: ProtocolDef['part'];
  /** The run config (raw JSON, absolute data paths). */
  config: Record<string, unknown>;
  /** Set when the cell cannot run in this build (e.g. an unknown model type): the reason. */
  invalid?: string;
}

/** What the plan left out and why (printed, and written into the leaderboard). */
export interface PlanSkip {
  what: string;
  reason: string;
}

export interface BenchmarkPlan {
  suite: SuiteDef['id'];
  seeds: number[];
  datasets: DatasetDef[];
  /** dataset id → its concrete protocols. */
  protocols: Record<string, ProtocolDef[]>;
  methods: MethodDef[];
  cells: CellSpec[];
  skipped: PlanSkip[];
}

/** The run directory of a cell. */
export function cellDir(outDir: string, cellId: string): string {
  return join(outDir, 'cells', ...cellId.split('/'));
}

/** Deep merge of plain objects (b wins; arrays replaced). */
function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = cur && v && typeof cur === 'object' && typeof v === 'object' && !Array.isArray(cur) && !Array.isArray(v) ? merge(cur as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

export interface PlanOptions {
  suite: SuiteDef;
  datasets: DatasetDef[];
  /** Protocol families of a dataset. */
  protocolFamilies: (dataset: string) => ProtocolFamily[];
  methods: MethodDef[];
  seeds: number[];
  /** engine.threads of every cell. */
  threads: number;
}

/** The cell config of one dataset × protocol × method × seed. */
export function cellConfig(o: PlanOptions, dataset: DatasetDef, protocol: ProtocolDef, method: MethodDef, seed: number): Record<string, unknown> {
  const base: Record<string, unknown> = {
    name: `${dataset.id}/${protocol.id}/${method.id}`,
    seeds: [seed],
    engine: { threads: o.threads },
    data: dataset.data,
    ...(dataset.externalData ? { externalData: dataset.externalData } : {}),
    split: { fractions: [0.7, 0.15, 0.15], seed: 0 },
    model: method.model(dataset.id),
    train: merge(
      { epochs: o.suite.epochs, batchSize: o.suite.batchSize, lr: o.suite.lr, patience: o.suite.patience, monitor: dataset.monitor ?? dataset.primaryMetric },
      method.train?.(o.suite.epochs, dataset.id) ?? {},
    ),
    evaluation: { tailThreshold: 0.15 },
  };
  return merge(base, protocol.config);
}

/** Plan every cell; datasets that are unavailable and protocols not defined for a dataset are skipped with the reason. */
export function planBenchmark(o: PlanOptions): BenchmarkPlan {
  const skipped: PlanSkip[] = [];
  const datasets: DatasetDef[] = [];
  const protocols: Record<string, ProtocolDef[]> = {};
  const cells: CellSpec[] = [];
  const invalid = new Map(o.methods.map((m) => [m.id, unknownModelTypeMessage(m)] as const));
  for (const d of o.datasets) {
    const why = d.unavailable();
    if (why) {
      skipped.push({ what: `dataset ${d.id}`, reason: why });
      continue;
    }
    datasets.push(d);
    for (const a of d.absentModalities ?? []) skipped.push({ what: `modality ${a.modality} of ${d.id}`, reason: a.reason });
    protocols[d.id] = [];
    for (const family of o.protocolFamilies(d.id)) {
      const r = protocolsOf(family, d);
      if (r.skipped) skipped.push({ what: `protocol ${family} on ${d.id}`, reason: r.skipped });
      for (const p of r.protocols) {
        protocols[d.id]!.push(p);
        for (const m of o.methods) {
          for (const seed of o.seeds) {
            const config = cellConfig(o, d, p, m, seed);
            const id = `${d.id}/${p.id}/${m.id}/seed-${seed}`;
            let reason = invalid.get(m.id) ?? undefined;
            if (!reason) {
              try {
                parseConfig(config, `benchmark cell ${id}`);
              } catch (e) {
                reason = (e as Error).message;
              }
            }
            cells.push({ id, dataset: d.id, protocol: p.id, method: m.id, seed, part: p.part, config, ...(reason ? { invalid: reason } : {}) });
          }
        }
      }
    }
  }
  return { suite: o.suite.id, seeds: o.seeds, datasets, protocols, methods: o.methods, cells, skipped };
}

/** The cells `--only` names: an exact cell id, or a prefix of whole path parts (e.g. `mfeat/drop30/remind`). */
export function selectCells(cells: CellSpec[], only: string): CellSpec[] {
  const sel = cells.filter((c) => c.id === only || c.id.startsWith(only.replace(/\/+$/, '') + '/'));
  if (!sel.length) {
    throw new FlexiModalError(`--only '${only}' names no cell of this benchmark`, {
      where: '--only',
      hint: `cell ids look like ${cells[0]?.id ?? 'synthetic/natural/late-fusion/seed-1'} (a prefix such as ${cells[0]?.id.split('/').slice(0, 3).join('/') ?? 'synthetic/natural/late-fusion'} selects its seeds)`,
    });
  }
  return sel;
}
