/**
 * Building canonical TimeSeriesData from raw rows: sorted by (time, variable), repeated
 * (time, variable) pairs averaged and counted.
 */
import type { TimeSeriesData } from './schema.js';
import type { ReportBuilder } from './report.js';

/** Reason string used in reports for averaged repeats. */
export const DUPLICATE_MERGED = 'duplicate (time, variable) merged';

/**
 * Sort rows by (time, variable) and average repeated (time, variable) pairs; every extra row
 * merged is counted under `duplicate (time, variable) merged` for its variable name.
 * Returns undefined when there are no rows (the modality is then absent for the sample).
 */
export function buildTimeSeries(
  times: ArrayLike<number>,
  variables: ArrayLike<number>,
  values: ArrayLike<number>,
  variableNames: string[],
  report?: ReportBuilder,
): TimeSeriesData | undefined {
  const n = times.length;
  if (n === 0) return undefined;
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) {
    const a = i - 1;
    if (times[i]! < times[a]! || (times[i] === times[a] && variables[i]! <= variables[a]!)) sorted = false;
  }
  if (!sorted) idx.sort((a, b) => times[a]! - times[b]! || variables[a]! - variables[b]! || a - b);
  const t: number[] = [];
  const v: number[] = [];
  const x: number[] = [];
  let i = 0;
  while (i < n) {
    const a = idx[i]!;
    let sum = values[a]!;
    let mean = sum;
    let k = 1;
    let j = i + 1;
    while (j < n && times[idx[j]!] === times[a] && variables[idx[j]!] === variables[a]) {
      k++;
      sum += values[idx[j]!]!;
      mean += values[idx[j]!]! / k - mean / k; // running mean: cannot overflow
      j++;
    }
    if (Number.isFinite(sum)) mean = sum / k; // the plain average unless the sum overflowed
    if (k > 1) report?.count(DUPLICATE_MERGED, k - 1, variableNames[variables[a]!] ?? String(variables[a]));
    t.push(times[a]!);
    v.push(variables[a]!);
    x.push(mean);
    i = j;
  }
  return {
    kind: 'timeseries',
    times: Float64Array.from(t),
    variables: Int32Array.from(v),
    values: Float64Array.from(x),
  };
}
