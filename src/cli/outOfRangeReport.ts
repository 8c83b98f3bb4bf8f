/**
 * The data-report reasons for values outside a model's training bounds (src/data/inputBounds.ts),
 * shared by predict and evaluate so their summaries read the same.
 */
export const OUT_OF_TRAINING_RANGE = {
  drop: 'value far outside the training range dropped (--out-of-range drop)',
  flag: 'value far outside the training range kept and flagged (--out-of-range flag)',
} as const;
