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
 * Allocates only its three outputs (plus an index when the rows are not already in order).
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
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) {
    const a = i - 1;
    if (times[i]! < times[a]! || (times[i] === times[a] && variables[i]! <= variables[a]!)) sorted = false;
  }
  let idx: Int32Array | null = null; // row order when the rows are not already sorted
  if (!sorted) {
    idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    idx.sort((a, b) => times[a]! - times[b]! || variables[a]! - variables[b]! || a - b);
  }
  const row = (i: number) => (idx ? idx[i]! : i);
  const t = new Float64Array(n); // [m ≤ n] once trimmed
  const v = new Int32Array(n);
  const x = new Float64Array(n);
  let m = 0;
  let i = 0;
  while (i < n) {
    const a = row(i);
    let sum = values[a]!;
    let mean = sum;
    let k = 1;
    let j = i + 1;
    while (j < n && times[row(j)] === times[a] && variables[row(j)] === variables[a]) {
      k++;
      sum += values[row(j)]!;
      mean += values[row(j)]! / k - mean / k; // running mean: cannot overflow
      j++;
    }
    if (Number.isFinite(sum)) mean = sum / k; // the plain average unless the sum overflowed
    if (k > 1) report?.count(DUPLICATE_MERGED, k - 1, variableNames[variables[a]!] ?? String(variables[a]));
    t[m] = times[a]!;
    v[m] = variables[a]!;
    x[m] = mean;
    m++;
    i = j;
  }
  // merged repeats: copy to the final length (no view into a larger buffer)
  return { kind: 'timeseries', times: m === n ? t : t.slice(0, m), variables: m === n ? v : v.slice(0, m), values: m === n ? x : x.slice(0, m) };
}
