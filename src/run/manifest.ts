/**
 * The run manifest: everything needed to reproduce a run (config, seeds, data hashes, versions,
 * machine, timings), written as manifest.json beside the outputs.
 */
import { cpus, platform, arch } from 'node:os';
import { dependencyVersions } from './versions.js';

export interface Manifest {
  createdAt: string;
  command: string[];
  config: unknown;
  seeds: number[];
  /** The split seed, or 'per-seed' (model seed s used split seed s). */
  splitSeed: number | 'per-seed';
  /** Input file → sha256. */
  dataHashes: Record<string, string>;
  versions: Record<string, string>;
  machine: { platform: string; arch: string; cpus: number; cpuModel: string };
  /** `matmul`: which matrix-product path ran (the engine's status line, src/engine/blas.ts). */
  engine: { backend: string; threads: number; matmul?: string };
  wallSeconds?: number;
  /** True when the run was continued from checkpoints after an interruption (`train --resume`). */
  resumed?: boolean;
}

/** A manifest for a run starting now. */
export function newManifest(args: {
  config: unknown;
  seeds: number[];
  splitSeed: number | 'per-seed';
  dataHashes: Record<string, string>;
  engine: { backend: string; threads: number; matmul?: string };
}): Manifest {
  const c = cpus();
  return {
    createdAt: new Date().toISOString(),
    command: process.argv.slice(1),
    config: args.config,
    seeds: args.seeds,
    splitSeed: args.splitSeed,
    dataHashes: args.dataHashes,
    versions: dependencyVersions(),
    machine: { platform: platform(), arch: arch(), cpus: c.length, cpuModel: c[0]?.model ?? 'unknown' },
    engine: args.engine,
  };
}
