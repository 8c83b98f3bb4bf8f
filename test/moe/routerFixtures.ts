/**
 * The shared router test set-up (test/moe/routers.test.ts, routersChecks.test.ts): batch B = 4,
 * M = 3 modalities of L = 3 tokens of width D = 4, and a small config of each design.
 */
import type { MoEFusionConfig, RouterDesign, RoutingUnit } from '../../src/moe/routers.js';

export const B = 4;
export const M = 3;
export const L = 3;
export const D = 4;

/** A router config of `design` routing by `unit` (4 experts, top-2, noisy Laplace gating), overridden by `extra`. */
export function routerConfig(design: RouterDesign, unit: RoutingUnit, extra: Partial<MoEFusionConfig> = {}): MoEFusionConfig {
  return {
    design,
    numModalities: M,
    dim: D,
    hidden: 6,
    numExperts: 4,
    topK: 2,
    gating: 'laplace',
    noisyGating: true,
    gateInitStd: 0.5,
    routingUnit: unit,
    seqLens: [L, L, L],
    ...extra,
  };
}
