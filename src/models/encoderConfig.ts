/**
 * Maps the `model.encoder` config section to the encoders' own configuration.
 */
import type { EncoderConfig as EncoderSection } from '../config/schema.js';
import type { EncoderConfig } from '../encoders/encoder.js';

/** Encoder configuration for token width `d`. */
export function encoderConfigOf(section: EncoderSection, d: number, dropout: number): EncoderConfig {
  return {
    d,
    kind: section.kind,
    gamma: section.gamma,
    heads: section.heads,
    dt: section.dt,
    kernelSize: section.kernelSize,
    embeddingGamma: section.embeddingGamma,
    keepLast: section.keepLast,
    staticTokens: section.staticTokens,
    summaryToken: section.summaryToken,
    summaryStats: section.summaryStats,
    dropout,
  };
}
