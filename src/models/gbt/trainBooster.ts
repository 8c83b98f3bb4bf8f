/**
 * Boosting with early stopping on the validation split: one round at a time
 * (XGBoosterUpdateOneIter), XGBoost's eval metric on validation after each (XGBoosterEvalOneIter),
 * stop after `earlyStoppingRounds` rounds without improvement, keep the best rounds
 * (XGBoosterSlice) — what XGBoost's own `early_stopping_rounds` does.
 */
import type { EpochRecord } from '../../train/trainer.js';
import { Booster, DMatrix } from './booster.js';
import type { XGBoostApi } from './xgboostLibrary.js';

export interface BoostOptions {
  /** XGBoost parameters (objective, eta, max_depth, eval_metric, seed, nthread, ...). */
  params: Record<string, string>;
  /** Maximum boosting rounds. */
  rounds: number;
  /** Stop after this many rounds without improvement of the validation metric and keep the best; 0 = never (all rounds kept). */
  earlyStoppingRounds: number;
  /** The eval metric watched (the first of `params.eval_metric`), e.g. 'logloss'. */
  metric: string;
  /** Called after each round (for progress lines). */
  onRound?: (round: number, value: number) => void;
}

export interface BoostResult {
  /** The booster cut to its best rounds (owned by the caller). */
  booster: Booster;
  /** Rounds kept (1-based count). */
  bestRounds: number;
  /** Validation metric after the best round. */
  bestScore: number;
  stoppedEarly: boolean;
  /** One record per round: `val[metric]`, trainLoss = NaN (not computed). */
  history: EpochRecord[];
}

/** Metrics for which larger is better (XGBoost's own list for its early stopping). */
const MAXIMIZE = /^(auc|aucpr|map|ndcg|pre)(@|$)/;

/** Train one booster on `train`, early-stopped on `val`. Frees nothing it was given. */
export function boostWithEarlyStopping(api: XGBoostApi, train: DMatrix, val: DMatrix, opts: BoostOptions): BoostResult {
  const maximize = MAXIMIZE.test(opts.metric);
  const booster = Booster.create(api, [train, val], opts.params);
  const history: EpochRecord[] = [];
  let best = maximize ? -Infinity : Infinity;
  let bestRounds = 0;
  let stoppedEarly = false;
  try {
    for (let it = 0; it < opts.rounds; it++) {
      const started = Date.now();
      booster.updateOneIter(it, train);
      const scores = booster.evalOneIter(it, val, 'val');
      const value = scores[opts.metric];
      if (value === undefined) throw new Error(`XGBoost reported no '${opts.metric}' (got ${Object.keys(scores).join(', ') || 'nothing'})`);
      history.push({ epoch: it + 1, trainLoss: Number.NaN, aux: {}, val: scores, lr: Number(opts.params['eta'] ?? NaN), seconds: (Date.now() - started) / 1000 });
      opts.onRound?.(it + 1, value);
      if (maximize ? value > best : value < best) {
        best = value;
        bestRounds = it + 1;
      } else if (opts.earlyStoppingRounds > 0 && it + 1 - bestRounds >= opts.earlyStoppingRounds) {
        stoppedEarly = true;
        break;
      }
    }
  } catch (e) {
    booster.free();
    throw e;
  }
  if (opts.earlyStoppingRounds === 0 || bestRounds === 0) {
    // no early stopping (or a metric that was never finite): every round is kept
    bestRounds = history.length;
    best = history.length ? history[history.length - 1]!.val[opts.metric]! : NaN;
  }
  if (bestRounds === booster.rounds()) return { booster, bestRounds, bestScore: best, stoppedEarly, history };
  const cut = booster.slice(bestRounds);
  booster.free();
  return { booster: cut, bestRounds, bestScore: best, stoppedEarly, history };
}
