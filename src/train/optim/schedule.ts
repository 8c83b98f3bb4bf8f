/**
 * Learning-rate schedules, as pure functions of the optimizer step (0-based).
 */
export type ScheduleConfig =
  | { type: 'constant'; warmupSteps: number }
  | { type: 'cosine'; warmupSteps: number; minFactor: number }
  | { type: 'step'; warmupSteps: number; stepEpochs: number; gamma: number };

/**
 * Learning rate at `step` for base rate `lr`. Linear warm-up over `warmupSteps`, then:
 * constant; cosine decay to lr·minFactor at `totalSteps`; or ×gamma every `stepEpochs` epochs.
 */
export function learningRateAt(
  cfg: ScheduleConfig,
  lr: number,
  step: number,
  totalSteps: number,
  stepsPerEpoch: number,
): number {
  if (cfg.warmupSteps > 0 && step < cfg.warmupSteps) return (lr * (step + 1)) / cfg.warmupSteps;
  switch (cfg.type) {
    case 'constant':
      return lr;
    case 'cosine': {
      const span = Math.max(1, totalSteps - cfg.warmupSteps);
      const progress = Math.min(1, (step - cfg.warmupSteps) / span);
      const factor = cfg.minFactor + (1 - cfg.minFactor) * 0.5 * (1 + Math.cos(Math.PI * progress));
      return lr * factor;
    }
    case 'step': {
      const epoch = Math.floor(step / Math.max(1, stepsPerEpoch));
      return lr * Math.pow(cfg.gamma, Math.floor(epoch / cfg.stepEpochs));
    }
  }
}
