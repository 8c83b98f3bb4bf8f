/**
 * Gradient-boosted trees as a fleximodal model (`model.type: "xgboost"`): XGBoost's C library on
 * the tabular features of src/models/gbt/features.ts. It is a FusionModel so that the experiment,
 * `evaluate`, `predict` and `Predictor` use it unchanged: `forward` returns XGBoost's raw margins
 * as the logits (sigmoid / softmax of them are XGBoost's probabilities). It has no tf variables;
 * `fit` trains it (instead of the gradient trainer) and `saveFiles` / `loadFiles` write and read
 * the boosters in XGBoost's JSON model format beside model.json.
 *
 * Objectives: binary → binary:logistic; multiclass → multi:softprob; multilabel → one
 * binary:logistic booster per label, each early-stopped on its own validation loss.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../engine/tf.js';
import { engineThreads } from '../../engine/backend.js';
import type { Batch } from '../../data/batchTypes.js';
import type { DatasetSpec, Sample } from '../../data/schema.js';
import type { XGBoostModelConfig } from '../../config/schema.js';
import type { FusionModel, ForwardOutput, LibraryFitInputs } from '../model.js';
import type { TrainResult } from '../../train/trainer.js';
import { FlexiModalError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomicWrite.js';
import { openXGBoost } from './xgboostLibrary.js';
import { Booster, DMatrix } from './booster.js';
import { treeFeatureNames, treeFeatures } from './features.js';
import { boostWithEarlyStopping } from './trainBooster.js';

/** Samples featurised per batch (bounds the dense batch's memory). */
const FEATURE_CHUNK = 256;

export class XGBoostModel implements FusionModel {
  readonly type = 'xgboost';
  /** One booster (binary, multiclass) or one per label (multilabel); empty until fitted / loaded. */
  private boosters: Booster[] = [];

  constructor(
    readonly spec: DatasetSpec,
    readonly cfg: XGBoostModelConfig,
    readonly seed: number,
  ) {}

  /** Number of boosters the task needs. */
  get boosterCount(): number {
    return this.spec.task.kind === 'multilabel' ? this.spec.task.labels.length : 1;
  }

  /** Outputs per sample: 1 (binary), classes, or labels. */
  get width(): number {
    const task = this.spec.task;
    return task.kind === 'binary' ? 1 : task.kind === 'multiclass' ? task.classes.length : task.labels.length;
  }

  /** Boosting rounds kept in each booster (after early stopping). */
  rounds(): number[] {
    return this.boosters.map((b) => b.rounds());
  }

  /** Logits [B, C]: XGBoost's raw margins of the batch's features. */
  forward(batch: Batch): ForwardOutput {
    return { logits: tf.tensor2d(this.margins(batch), [batch.size, this.width]) };
  }

  /** Margins [B, C] row-major (C = 1 binary, classes, or labels). */
  margins(batch: Batch): Float32Array {
    if (this.boosters.length === 0) throw new FlexiModalError('the xgboost model has no trees yet', { hint: 'train it (fleximodal train) or load a saved model directory' });
    const width = this.width;
    if (batch.size === 0) return new Float32Array(0);
    const f = treeFeatures(this.spec, batch);
    const api = this.boosters[0]!.api;
    const d = new DMatrix(api, f.values, f.rows, f.cols);
    try {
      const out = new Float32Array(batch.size * width);
      this.boosters.forEach((b, j) => {
        const m = b.margins(d);
        if (this.boosters.length === 1) {
          if (m.width !== width) throw new Error(`XGBoost returned ${m.width} margins per sample, the task has ${width}`);
          out.set(m.values);
        } else for (let i = 0; i < batch.size; i++) out[i * width + j] = m.values[i]!;
      });
      return out;
    } finally {
      d.free();
    }
  }

  /** No tf variables: the trees live in the boosters. */
  variables(): tf.Variable[] {
    return [];
  }

  dispose(): void {
    this.boosters.forEach((b) => b.free());
    this.boosters = [];
  }

  /** XGBoost parameters for this task (`labelCount` = 1 except multiclass). */
  params(nthread: number, posWeight: number): Record<string, string> {
    const c = this.cfg;
    const task = this.spec.task;
    const multiclass = task.kind === 'multiclass';
    const metric = c.evalMetric === 'auto' ? 'logloss' : c.evalMetric;
    return {
      objective: multiclass ? 'multi:softprob' : 'binary:logistic',
      ...(multiclass ? { num_class: String(task.classes.length) } : {}),
      eval_metric: multiclass && (metric === 'logloss' || metric === 'error') ? `m${metric}` : metric,
      eta: String(c.eta),
      max_depth: String(c.maxDepth),
      subsample: String(c.subsample),
      colsample_bytree: String(c.colsampleBytree),
      min_child_weight: String(c.minChildWeight),
      lambda: String(c.lambda),
      alpha: String(c.alpha),
      tree_method: c.treeMethod,
      seed: String(c.seed ?? this.seed),
      nthread: String(c.nthread ?? nthread),
      ...(task.kind !== 'multiclass' && posWeight !== 1 ? { scale_pos_weight: String(posWeight) } : {}),
      verbosity: '0',
    };
  }

  /** Train the booster(s) on `train`, early-stopped on `val` (replaces the gradient trainer). */
  fit(inputs: LibraryFitInputs): TrainResult {
    const started = Date.now();
    const api = openXGBoost();
    this.dispose();
    const threads = engineThreads();
    const params = this.params(threads, inputs.posWeight);
    const metric = params['eval_metric']!;
    const tr = this.matrixOf(inputs.train, inputs.toBatch);
    const va = this.matrixOf(inputs.val, inputs.toBatch);
    const labels = (samples: Sample[], j: number) =>
      Float32Array.from(samples, (s) => (this.spec.task.kind === 'multilabel' ? (s.label as number[])[j]! : (s.label as number)));
    const results: TrainResult[] = [];
    try {
      for (let j = 0; j < this.boosterCount; j++) {
        const name = this.spec.task.kind === 'multilabel' ? ` label ${this.spec.task.labels[j]}` : '';
        const dtrain = new DMatrix(api, tr.values, tr.rows, tr.cols, labels(inputs.train, j));
        const dval = new DMatrix(api, va.values, va.rows, va.cols, labels(inputs.val, j));
        try {
          const r = boostWithEarlyStopping(api, dtrain, dval, {
            params,
            rounds: this.cfg.nRounds,
            earlyStoppingRounds: this.cfg.earlyStoppingRounds,
            metric,
            onRound: (round, value) => {
              if (round % 100 === 0) inputs.log?.(`${inputs.label}${name}: round ${round}, val ${metric} ${value.toFixed(4)}`);
            },
          });
          this.boosters.push(r.booster);
          results.push({ monitor: metric, history: r.history, bestEpoch: r.bestRounds, bestScore: r.bestScore, stoppedEarly: r.stoppedEarly, seconds: 0 });
          inputs.log?.(
            `${inputs.label}${name}: XGBoost ${api.version} (${api.library}, ${params['nthread']} thread(s)), ${tr.cols} features, kept ${r.bestRounds} of ${r.history.length} rounds (val ${metric} ${r.bestScore.toFixed(4)}${r.stoppedEarly ? ', stopped early' : ''})`,
          );
        } finally {
          dtrain.free();
          dval.free();
        }
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
    // multilabel: the record of the first label's booster, the rounds of all in the log
    const first = results[0]!;
    return { ...first, seconds: (Date.now() - started) / 1000 };
  }

  /** Features of `samples` [N, F], featurised FEATURE_CHUNK samples at a time. */
  private matrixOf(samples: Sample[], toBatch: (s: Sample[]) => Batch): { values: Float32Array; rows: number; cols: number } {
    const cols = treeFeatureNames(this.spec).length;
    const values = new Float32Array(samples.length * cols);
    for (let i = 0; i < samples.length; i += FEATURE_CHUNK) {
      const f = treeFeatures(this.spec, toBatch(samples.slice(i, i + FEATURE_CHUNK)));
      values.set(f.values, i * cols);
    }
    return { values, rows: samples.length, cols };
  }

  /** File name of booster j in a model directory. */
  boosterFile(j: number): string {
    return this.boosterCount === 1 ? 'xgboost.json' : `xgboost-label${j}.json`;
  }

  /** Write the booster(s) (XGBoost JSON model format) and the feature names into `dir`. */
  saveFiles(dir: string): void {
    if (this.boosters.length === 0) throw new Error('saveFiles: the xgboost model was not trained');
    this.boosters.forEach((b, j) => writeFileAtomic(join(dir, this.boosterFile(j)), b.save('json')));
    writeFileAtomic(join(dir, 'features.json'), JSON.stringify({ features: treeFeatureNames(this.spec) }, null, 1) + '\n');
  }

  /** Read the booster(s) written by `saveFiles`. */
  loadFiles(dir: string): void {
    const api = openXGBoost();
    this.dispose();
    for (let j = 0; j < this.boosterCount; j++) {
      const path = join(dir, this.boosterFile(j));
      if (!existsSync(path)) {
        this.dispose();
        throw new FlexiModalError(`the XGBoost model file ${this.boosterFile(j)} is missing`, { where: dir, hint: 'the model directory is incomplete; retrain it with fleximodal train' });
      }
      const b = Booster.load(readFileSync(path), path, api);
      this.boosters.push(b);
      // the saved model holds the trees, not the run-time parameters: predict on the engine's threads
      b.setParam('nthread', String(this.cfg.nthread ?? engineThreads()));
    }
  }
}
