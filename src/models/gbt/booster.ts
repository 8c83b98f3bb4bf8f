/**
 * Thin owners of XGBoost's DMatrix and Booster handles (C API through koffi): every call's status
 * is checked and XGBoost's own error message is raised; `free()` releases the native memory.
 */
import { FlexiModalError } from '../../errors.js';
import { openXGBoost, type Handle, type XGBoostApi } from './xgboostLibrary.js';

function check(api: XGBoostApi, status: number, what: string): void {
  if (status !== 0) throw new FlexiModalError(`XGBoost ${what} failed: ${lastErrorLine(api)}`, { where: 'model.type "xgboost"' });
}

/** XGBoost's last error without its native stack trace (and the "[hh:mm:ss] file:line:" prefix). */
export function lastErrorLine(api: XGBoostApi): string {
  const first = (api.XGBGetLastError() || 'no message').split(/\n|Stack trace:/)[0]!.trim();
  return first.replace(/^\[[\d:]+\]\s*\S+:\d+:\s*/, '');
}

/** A dense feature matrix [rows, cols] (row-major float32, NaN = missing) with optional labels. */
export class DMatrix {
  private handle: Handle | null;

  constructor(
    readonly api: XGBoostApi,
    features: Float32Array,
    readonly rows: number,
    readonly cols: number,
    labels?: Float32Array,
  ) {
    if (features.length !== rows * cols) throw new Error(`DMatrix: ${features.length} values for ${rows}×${cols}`);
    const out: [Handle] = [null];
    check(api, api.XGDMatrixCreateFromMat(features, rows, cols, Number.NaN, out), 'XGDMatrixCreateFromMat');
    this.handle = out[0];
    if (labels) {
      if (labels.length !== rows) throw new Error(`DMatrix: ${labels.length} labels for ${rows} rows`);
      check(api, api.XGDMatrixSetFloatInfo(this.handle, 'label', labels, rows), 'XGDMatrixSetFloatInfo(label)');
    }
  }

  /** The native handle (throws after free). */
  get native(): Handle {
    if (this.handle === null) throw new Error('DMatrix used after free()');
    return this.handle;
  }

  free(): void {
    if (this.handle !== null) this.api.XGDMatrixFree(this.handle);
    this.handle = null;
  }
}

/** One XGBoost booster: parameters, boosting rounds, evaluation, margins, (de)serialisation. */
export class Booster {
  private handle: Handle | null;

  private constructor(
    readonly api: XGBoostApi,
    handle: Handle,
  ) {
    this.handle = handle;
  }

  /** A new booster that caches `dmats` (the training matrix first). */
  static create(api: XGBoostApi, dmats: DMatrix[], params: Record<string, string>): Booster {
    const out: [Handle] = [null];
    check(api, api.XGBoosterCreate(dmats.map((d) => d.native), dmats.length, out), 'XGBoosterCreate');
    const b = new Booster(api, out[0]);
    try {
      for (const [k, v] of Object.entries(params)) check(api, api.XGBoosterSetParam(out[0], k, v), `XGBoosterSetParam(${k}=${v})`);
    } catch (e) {
      b.free();
      throw e;
    }
    return b;
  }

  /** A booster read from bytes written by `save` (XGBoost JSON or UBJ model format). */
  static load(bytes: Uint8Array, where: string, api: XGBoostApi = openXGBoost()): Booster {
    const out: [Handle] = [null];
    check(api, api.XGBoosterCreate([], 0, out), 'XGBoosterCreate');
    const b = new Booster(api, out[0]);
    const status = api.XGBoosterLoadModelFromBuffer(out[0], bytes, bytes.length);
    if (status !== 0) {
      const msg = lastErrorLine(api);
      b.free();
      throw new FlexiModalError(`not a readable XGBoost model: ${msg}`, { where, hint: 'the file must be written by fleximodal train (XGBoost JSON model format); retrain the model' });
    }
    return b;
  }

  get native(): Handle {
    if (this.handle === null) throw new Error('Booster used after free()');
    return this.handle;
  }

  setParam(name: string, value: string): void {
    check(this.api, this.api.XGBoosterSetParam(this.native, name, value), `XGBoosterSetParam(${name}=${value})`);
  }

  /** One boosting round (iteration `iter`, 0-based) on `train`. */
  updateOneIter(iter: number, train: DMatrix): void {
    check(this.api, this.api.XGBoosterUpdateOneIter(this.native, iter, train.native), 'XGBoosterUpdateOneIter');
  }

  /** The booster's eval metrics on `dmat` after round `iter`: metric name → value (e.g. { logloss: 0.31 }). */
  evalOneIter(iter: number, dmat: DMatrix, name = 'val'): Record<string, number> {
    const out: [string | null] = [null];
    check(this.api, this.api.XGBoosterEvalOneIter(this.native, iter, [dmat.native], [name], 1, out), 'XGBoosterEvalOneIter');
    return parseEvalLine(out[0] ?? '', name);
  }

  /** Rounds boosted so far. */
  rounds(): number {
    const out: [number] = [0];
    check(this.api, this.api.XGBoosterBoostedRounds(this.native, out), 'XGBoosterBoostedRounds');
    return out[0];
  }

  /** A new booster holding rounds [0, rounds) of this one. */
  slice(rounds: number): Booster {
    const out: [Handle] = [null];
    check(this.api, this.api.XGBoosterSlice(this.native, 0, rounds, 1, out), 'XGBoosterSlice');
    return new Booster(this.api, out[0]);
  }

  /**
   * Raw margins (log-odds; per class for multi:softprob) of every row of `dmat`: [rows, width]
   * row-major (width 1 for binary:logistic, numClass for multi:softprob).
   */
  margins(dmat: DMatrix): { values: Float32Array; width: number } {
    const shape: [Handle] = [null];
    const dim: [number] = [0];
    const result: [Handle] = [null];
    const config = JSON.stringify({ type: 1, training: false, iteration_begin: 0, iteration_end: 0, strict_shape: true });
    check(this.api, this.api.XGBoosterPredictFromDMatrix(this.native, dmat.native, config, shape, dim, result), 'XGBoosterPredictFromDMatrix');
    const dims = this.api.readShape(shape[0], Number(dim[0]));
    const total = dims.reduce((a, b) => a * b, 1);
    if (dims[0] !== dmat.rows || total % dmat.rows !== 0) throw new Error(`XGBoost returned shape [${dims}] for ${dmat.rows} rows`);
    const values = total === 0 ? new Float32Array(0) : new Float32Array(this.api.copyBytes(result[0], total * 4).buffer);
    return { values, width: total / dmat.rows };
  }

  /** The model in XGBoost's own format ('json' or 'ubj'), via XGBoosterSaveModelToBuffer. */
  save(format: 'json' | 'ubj' = 'json'): Uint8Array {
    const len: [number | bigint] = [0];
    const out: [Handle] = [null];
    check(this.api, this.api.XGBoosterSaveModelToBuffer(this.native, JSON.stringify({ format }), len, out), 'XGBoosterSaveModelToBuffer');
    return this.api.copyBytes(out[0], Number(len[0]));
  }

  free(): void {
    if (this.handle !== null) this.api.XGBoosterFree(this.handle);
    this.handle = null;
  }
}

/** Parse XGBoost's evaluation line "[3]\tval-logloss:0.31\tval-auc:0.8" into { logloss: 0.31, auc: 0.8 }. */
export function parseEvalLine(line: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of line.split('\t').slice(1)) {
    const m = /^(.+?)-(.+):([^:]+)$/.exec(part.trim());
    if (m && m[1] === name) out[m[2]!] = Number(m[3]);
  }
  return out;
}
