/**
 * `dataSourceSchema`: the zod schema of a data source (the `data` section of a run config), as a
 * discriminated union over the source types. Schema only, no file access, so that the run-config
 * schema (and the model config inside it) can be used where there is no file system (the browser
 * build). `loadDataset` (src/data/load.ts) reads the sources.
 */
import { z } from 'zod';
import { mimicIvSourceSchema } from './sources/mimicIv/options.js';
import { SYNTHETIC_MODALITIES } from './synthetic.js';
import { rangesSchema, rangePresetSchema } from './ranges.js';

/** A long-CSV modality map: variable → modality name, or {modality, static: true}. */
export const longCsvModalityMapSchema = z.record(
  z.string().min(1),
  z.union([z.string().min(1), z.object({ modality: z.string().min(1), static: z.literal(true) }).strict()]),
);

const pathList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const taskSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('binary'), name: z.string() }).strict(),
  z.object({ kind: z.literal('multiclass'), name: z.string(), classes: z.array(z.string().min(1)).min(2) }).strict(),
  z.object({ kind: z.literal('multilabel'), name: z.string(), labels: z.array(z.string().min(1)).min(1) }).strict(),
]);
const bound = z.number().nullable();

/** zod schema of a data source (the `data` section of a run config). Paths are relative to the base dir. */
export const dataSourceSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('physionet2012'),
      records: pathList,
      outcomes: pathList,
      grouping: z.union([z.enum(['vitals-labs', 'seven-groups']), z.record(z.string().min(1), z.array(z.string()).min(1))]).optional(),
      ranges: z.record(z.string(), z.tuple([bound, bound])).optional(),
      rangePreset: rangePresetSchema.optional(),
      descriptorsAsStatic: z.boolean().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('jsonl'),
      path: z.string().min(1),
      specPath: z.string().min(1).optional(),
      requireLabels: z.boolean().optional(),
      ranges: rangesSchema.optional(),
      rangePreset: rangePresetSchema.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('long-csv'),
      path: z.string().min(1),
      labels: z.string().min(1),
      modalityMap: z.union([z.string().min(1), longCsvModalityMapSchema]),
      task: taskSchema.optional(),
      horizonHours: z.number().positive().optional(),
      name: z.string().optional(),
      ranges: rangesSchema.optional(),
      rangePreset: rangePresetSchema.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('multiview-csv'),
      /** view (modality) name → CSV file; rows aligned with the labels file. */
      views: z.record(z.string().min(1), z.string().min(1)),
      labels: z.string().min(1),
      labelColumn: z.string().min(1).optional(),
      idColumn: z.string().min(1).optional(),
      classes: z.array(z.string().min(1)).min(2).optional(),
      task: z.enum(['multiclass', 'binary']).optional(),
      taskName: z.string().optional(),
      name: z.string().optional(),
      ranges: rangesSchema.optional(),
      rangePreset: rangePresetSchema.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('synthetic'),
      n: z.number().int().positive().optional(),
      seed: z.number().int().optional(),
      task: z.enum(['binary', 'multiclass', 'multilabel']).optional(),
      modalities: z.array(z.enum(SYNTHETIC_MODALITIES)).min(1).optional(),
      missingness: z
        .union([
          z.literal('long-tail'),
          z.object({ longTail: z.number().nonnegative() }).strict(),
          z.record(z.enum(SYNTHETIC_MODALITIES), z.number().min(0).max(1)),
        ])
        .optional(),
      horizonHours: z.number().positive().optional(),
      noteDim: z.number().int().min(2).optional(),
      classes: z.number().int().min(2).optional(),
      labels: z.number().int().min(1).optional(),
    })
    .strict(),
  mimicIvSourceSchema,
]);

export type DataSource = z.infer<typeof dataSourceSchema>;
