/** Public entry of the MoE module: gating, sparse top-K MoE, Soft MoE, routers, router losses, router uncertainty, usage stats. */
export * from './gating.js';
export * from './topk.js';
export * from './row-ops.js';
export * from './routing.js';
export * from './experts.js';
export * from './sparse-moe.js';
export * from './losses.js';
export * from './routers.js';
export * from './usage-stats.js';
export * from './softMoe.js';
export * from './routerUncertainty.js';
