/**
 * Training checkpoints: after every epoch the trainer's complete state is written to one
 * safetensors file (atomically), so a killed run continues exactly where it stopped and reaches
 * the same result as an uninterrupted run. The state is
 *   - tensors: the weights (`weights/<name>`), the best weights so far (`best/<name>`), the AdamW
 *     moments (`adam_m/<name>`, `adam_v/<name>`) and the EMA weights (`ema/<name>`);
 *   - JSON (the file's `__metadata__`): epochs done, whether training has ended, the history,
 *     the early-stopping state (best score and epoch, epochs since the best), the optimizer step
 *     (= the schedule position), the EMA update count, elapsed seconds, the state of other
 *     training components (the group-DRO weights and pending group losses), and the state of every
 *     random generator: the trainer's (shuffling, per-step seeds), augmentation's, and every
 *     generator inside the model (dropout masks, gating noise), found by walking the model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { tf } from '../engine/tf.js';
import { paramName } from '../engine/params.js';
import { Rng, type RngState } from '../engine/rng.js';
import { decodeSafetensors, encodeSafetensors } from '../engine/weights.js';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { FlexiModalError } from '../errors.js';
import type { FusionModel } from '../models/model.js';
import type { AdamW } from './optim/adamw.js';
import type { WeightAverage } from './ema.js';
import type { EpochRecord } from './trainer.js';

/** The live objects of a training loop that a checkpoint saves and restores in place. */
export interface TrainingObjects {
  model: FusionModel;
  variables: tf.Variable[];
  optimizer: AdamW;
  ema: WeightAverage | null;
  /** The trainer's own generators by a stable name (e.g. shuffle, augment). */
  rngs: Record<string, Rng>;
  /** Other training state by a stable name (e.g. the group-DRO weights), saved as JSON. */
  stateful?: Record<string, { getState(): unknown; setState(state: unknown): void }>;
}

/** The loop's bookkeeping at the end of an epoch. */
export interface LoopState {
  /** Epochs completed. */
  epoch: number;
  /** Training has ended (all epochs, early stopping, or a callback asked to stop). */
  finished: boolean;
  history: EpochRecord[];
  best: number;
  bestEpoch: number;
  sinceBest: number;
  stoppedEarly: boolean;
  /** Training seconds before this process (summed over interrupted processes). */
  elapsedSeconds: number;
  /** Best weights so far (owned by the loop). */
  bestWeights: Map<string, tf.Tensor> | null;
}

/** Where the trainer saves its state after every epoch and finds it again on resume. */
export interface TrainingCheckpoint {
  /** Save the state at the end of an epoch. */
  save(objects: TrainingObjects, loop: LoopState): void;
  /** Restore the live objects from the saved state and return the loop state; null when there is none. */
  restore(objects: TrainingObjects): LoopState | null;
}

const META_KEY = 'fleximodal.checkpoint';
const FORMAT = 1;

interface CheckpointJson {
  format: number;
  epoch: number;
  finished: boolean;
  history: EpochRecord[];
  best: number;
  bestEpoch: number;
  sinceBest: number;
  stoppedEarly: boolean;
  elapsedSeconds: number;
  hasBest: boolean;
  optimizerStep: number;
  emaUpdates: number | null;
  trainerRngs: Record<string, RngState>;
  modelRngs: Record<string, RngState>;
  stateful: Record<string, unknown>;
}

/**
 * Every `Rng` reachable from `root` through own enumerable properties, arrays and maps, keyed by
 * its property path (e.g. `blocks.0.drop.rng`). Tensors are not entered. The walk order is the
 * construction order, so one model architecture always yields the same paths.
 */
export function collectRngs(root: object): Map<string, Rng> {
  const found = new Map<string, Rng>();
  const seen = new Set<object>();
  const walk = (x: unknown, path: string, depth: number): void => {
    if (x === null || typeof x !== 'object' || seen.has(x) || depth > 16) return;
    seen.add(x);
    if (x instanceof Rng) {
      found.set(path, x);
      return;
    }
    if (x instanceof tf.Tensor || ArrayBuffer.isView(x)) return;
    const child = (p: string) => (path ? `${path}.${p}` : p);
    if (x instanceof Map) {
      for (const [k, v] of x) walk(v, child(String(k)), depth + 1);
      return;
    }
    for (const [k, v] of Object.entries(x)) walk(v, child(k), depth + 1);
  };
  walk(root, '', 0);
  return found;
}

/** JSON with NaN and ±Infinity kept (history metrics and the initial best score may be non-finite). */
function toJson(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v));
}
function fromJson(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => (v && typeof v === 'object' && '$number' in v ? Number((v as { $number: string }).$number) : v));
}

/** A checkpoint kept in one safetensors file at `path`, replaced atomically after every epoch. */
export class FileCheckpoint implements TrainingCheckpoint {
  constructor(readonly path: string) {}

  save(o: TrainingObjects, loop: LoopState): void {
    const tensors = new Map<string, tf.Tensor>();
    for (const v of o.variables) tensors.set(`weights/${paramName(v)}`, v);
    loop.bestWeights?.forEach((t, name) => tensors.set(`best/${name}`, t));
    for (const [name, { m, v }] of o.optimizer.moments()) {
      tensors.set(`adam_m/${name}`, m);
      tensors.set(`adam_v/${name}`, v);
    }
    const ema = o.ema?.state() ?? null;
    ema?.shadow.forEach((t, name) => tensors.set(`ema/${name}`, t));
    const state: CheckpointJson = {
      format: FORMAT,
      epoch: loop.epoch,
      finished: loop.finished,
      history: loop.history,
      best: loop.best,
      bestEpoch: loop.bestEpoch,
      sinceBest: loop.sinceBest,
      stoppedEarly: loop.stoppedEarly,
      elapsedSeconds: loop.elapsedSeconds,
      hasBest: loop.bestWeights !== null,
      optimizerStep: o.optimizer.step,
      emaUpdates: ema ? ema.updates : null,
      trainerRngs: Object.fromEntries(Object.entries(o.rngs).map(([k, r]) => [k, r.getState()])),
      modelRngs: Object.fromEntries([...collectRngs(o.model)].map(([k, r]) => [k, r.getState()])),
      stateful: Object.fromEntries(Object.entries(o.stateful ?? {}).map(([k, x]) => [k, x.getState()])),
    };
    writeFileAtomic(this.path, encodeSafetensors(tensors, { [META_KEY]: toJson(state) }));
  }

  restore(o: TrainingObjects): LoopState | null {
    if (!existsSync(this.path)) return null;
    const bytes = readFileSync(this.path);
    const bad = (msg: string) =>
      new FlexiModalError(`checkpoint does not match this training: ${msg}`, {
        where: this.path,
        hint: 'the run directory holds another model; start over with --overwrite',
      });
    const state = fromJson(readSafetensorsMetadata(bytes, this.path)[META_KEY] ?? 'null') as CheckpointJson | null;
    if (!state || state.format !== FORMAT) throw bad(`no fleximodal checkpoint (format ${String(state?.format)})`);
    const tensors = decodeSafetensors(bytes, this.path);
    const take = (key: string): tf.Tensor => {
      const t = tensors.get(key);
      if (!t) throw bad(`tensor '${key}' is missing`);
      tensors.delete(key);
      return t;
    };
    const owned: tf.Tensor[] = [];
    try {
      for (const v of o.variables) {
        const t = take(`weights/${paramName(v)}`);
        owned.push(t);
        if (t.shape.join('x') !== v.shape.join('x')) throw bad(`weight '${paramName(v)}' has shape [${t.shape}], the model [${v.shape}]`);
        v.assign(t);
      }
      const bestWeights = state.hasBest ? new Map(o.variables.map((v) => [paramName(v), take(`best/${paramName(v)}`)] as const)) : null;
      const moments = new Map<string, { m: tf.Tensor; v: tf.Tensor }>();
      for (const key of [...tensors.keys()].filter((k) => k.startsWith('adam_m/'))) {
        const name = key.slice('adam_m/'.length);
        const m = take(key);
        const v = take(`adam_v/${name}`);
        owned.push(m, v);
        moments.set(name, { m, v });
      }
      o.optimizer.restore(state.optimizerStep, moments);
      if (o.ema) {
        if (state.emaUpdates === null) throw bad('it was written without train.ema');
        const shadow = new Map(o.variables.map((v) => [paramName(v), take(`ema/${paramName(v)}`)] as const));
        owned.push(...shadow.values());
        o.ema.restore(state.emaUpdates, shadow);
      }
      for (const [name, rng] of Object.entries(o.rngs)) {
        const s = state.trainerRngs[name];
        if (!s) throw bad(`no state of the '${name}' generator`);
        rng.setState(s);
      }
      for (const [name, x] of Object.entries(o.stateful ?? {})) {
        if (!(name in (state.stateful ?? {}))) throw bad(`no saved state of '${name}'`);
        x.setState(state.stateful[name]);
      }
      const modelRngs = collectRngs(o.model);
      if (modelRngs.size !== Object.keys(state.modelRngs).length) throw bad(`${Object.keys(state.modelRngs).length} model generators saved, the model has ${modelRngs.size}`);
      for (const [path, rng] of modelRngs) {
        const s = state.modelRngs[path];
        if (!s) throw bad(`no state of the model generator '${path}'`);
        rng.setState(s);
      }
      return {
        epoch: state.epoch,
        finished: state.finished,
        history: state.history,
        best: state.best,
        bestEpoch: state.bestEpoch,
        sinceBest: state.sinceBest,
        stoppedEarly: state.stoppedEarly,
        elapsedSeconds: state.elapsedSeconds,
        bestWeights,
      };
    } finally {
      owned.forEach((t) => t.dispose());
      tensors.forEach((t) => t.dispose());
    }
  }
}

/** The `__metadata__` string map of a safetensors file (empty when it has none). */
export function readSafetensorsMetadata(bytes: Uint8Array, where: string): Record<string, string> {
  if (bytes.byteLength < 8) throw new FlexiModalError('file is too short to be a checkpoint', { where, hint: 'delete it or start over with --overwrite' });
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.byteLength - 8) throw new FlexiModalError('checkpoint header is truncated', { where, hint: 'delete it or start over with --overwrite' });
  const header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8')) as { __metadata__?: Record<string, string> };
  return header.__metadata__ ?? {};
}

/** Epochs completed according to the checkpoint at `path` (null when absent) — for progress reports and tests. */
export function checkpointEpoch(path: string): { epoch: number; finished: boolean } | null {
  if (!existsSync(path)) return null;
  const state = fromJson(readSafetensorsMetadata(readFileSync(path), path)[META_KEY] ?? 'null') as CheckpointJson | null;
  return state ? { epoch: state.epoch, finished: state.finished } : null;
}
