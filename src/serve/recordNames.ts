/**
 * Every name in a request that the model does not know, listed at once: unknown modalities and
 * unknown time-series variables (by name) across all records. The record reader
 * (`Predictor.parse` → the JSONL sample reader) stops at the first problem; this lets a 422 list
 * all unknown names so a client can fix them in one go. Everything else about a record is left to
 * the reader (the one input check shared with `predict`).
 */
import type { DatasetSpec } from '../data/schema.js';

/** Unknown names (`modality X`, `X.variable`) and the JSON path of the first. */
export function unknownNames(spec: DatasetSpec, records: unknown[], single: boolean): { names: string[]; firstPath: string | null } {
  const names = new Set<string>();
  let firstPath: string | null = null;
  const byName = new Map(spec.modalities.map((m) => [m.name, m] as const));
  const at = (i: number, p: string) => (single ? p : `[${i}].${p}`);
  records.forEach((r, i) => {
    const mods = (r as { modalities?: unknown })?.modalities;
    if (!mods || typeof mods !== 'object' || Array.isArray(mods)) return;
    for (const [key, v] of Object.entries(mods as Record<string, unknown>)) {
      const m = byName.get(key);
      if (!m) {
        names.add(`modality ${key.slice(0, 64)}`);
        firstPath ??= at(i, `modalities.${key.slice(0, 64)}`);
        continue;
      }
      if (m.kind !== 'timeseries' || !v || typeof v !== 'object') continue;
      const vars = (v as { variables?: unknown }).variables;
      if (!Array.isArray(vars)) continue;
      const known = new Set(m.variables);
      vars.forEach((x, j) => {
        if (typeof x === 'string' && !known.has(x)) {
          names.add(`${m.name}.${x.slice(0, 64)}`);
          firstPath ??= at(i, `modalities.${m.name}.variables[${j}]`);
        }
      });
    }
  });
  return { names: [...names].slice(0, 100), firstPath };
}
