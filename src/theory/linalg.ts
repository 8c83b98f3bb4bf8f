/**
 * Small dense linear algebra on Float64Array (row-major), for the few-parameter Newton steps of
 * the theory lab. Sizes are tiny (≤ a few dozen), so plain loops are the fastest option.
 */

/**
 * Solve (A + λI) x = b for a symmetric positive semi-definite A (n×n, row-major) by Cholesky.
 * The ridge λ starts at `ridge` and grows ×10 until the factorisation succeeds.
 * Returns x (a new array). A and b are not modified.
 */
export function solveSpd(A: Float64Array, b: Float64Array, n: number, ridge = 0): Float64Array {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += Math.abs(A[i * n + i]!);
  let lam = ridge;
  const L = new Float64Array(n * n);
  for (let attempt = 0; attempt < 40; attempt++) {
    if (choleskyInto(A, n, lam, L)) return choleskySolve(L, b, n);
    lam = lam === 0 ? Math.max(1e-12, 1e-10 * (trace / Math.max(n, 1))) : lam * 10;
  }
  return new Float64Array(n); // hopeless system: no step
}

/** Cholesky factor of (A + λI) into L (lower triangular); false when not positive definite. */
export function choleskyInto(A: Float64Array, n: number, lam: number, L: Float64Array): boolean {
  L.fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j]! + (i === j ? lam : 0);
      for (let p = 0; p < j; p++) s -= L[i * n + p]! * L[j * n + p]!;
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) return false;
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j]!;
      }
    }
  }
  return true;
}

/** Solve L Lᵀ x = b given the Cholesky factor L. */
export function choleskySolve(L: Float64Array, b: Float64Array, n: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let p = 0; p < i; p++) s -= L[i * n + p]! * y[p]!;
    y[i] = s / L[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let p = i + 1; p < n; p++) s -= L[p * n + i]! * x[p]!;
    x[i] = s / L[i * n + i]!;
  }
  return x;
}

/** Copy the lower triangle of a square matrix into its upper triangle. */
export function symmetrizeLower(A: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) A[j * n + i] = A[i * n + j]!;
}

/** Numerically stable log Σ exp(v[off..off+len)). */
export function logSumExp(v: Float64Array | number[], off = 0, len = v.length - off): number {
  let m = -Infinity;
  for (let i = off; i < off + len; i++) if (v[i]! > m) m = v[i]!;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let i = off; i < off + len; i++) s += Math.exp(v[i]! - m);
  return m + Math.log(s);
}

/** Ordinary least squares fit y ≈ a + b·x: slope, intercept and the slope's standard error. */
export function olsSlope(x: number[], y: number[]): { slope: number; intercept: number; slopeStderr: number; r2: number } {
  const m = x.length;
  if (m < 2 || y.length !== m) return { slope: NaN, intercept: NaN, slopeStderr: NaN, r2: NaN };
  let mx = 0;
  let my = 0;
  for (let i = 0; i < m; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= m;
  my /= m;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < m; i++) {
    sxx += (x[i]! - mx) ** 2;
    sxy += (x[i]! - mx) * (y[i]! - my);
    syy += (y[i]! - my) ** 2;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let rss = 0;
  for (let i = 0; i < m; i++) rss += (y[i]! - intercept - slope * x[i]!) ** 2;
  const slopeStderr = m > 2 ? Math.sqrt(rss / (m - 2) / sxx) : NaN;
  return { slope, intercept, slopeStderr, r2: syy > 0 ? 1 - rss / syy : 1 };
}

/**
 * Eigen-decomposition of a symmetric matrix A (n×n, row-major) by cyclic Jacobi rotations.
 * Returns the eigenvalues in increasing order and the eigenvectors as the columns of V (row-major,
 * V[i·n + m] = component i of eigenvector m). Absolute accuracy ≈ machine ε · ‖A‖, which resolves
 * eigenvalues many orders below the largest one (unlike a characteristic-polynomial approach).
 */
export function symmetricEigen(A: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = A.slice();
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += a[i * n + i]! ** 2;
      for (let j = i + 1; j < n; j++) off += a[i * n + j]! ** 2;
    }
    if (off <= 1e-32 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[x * n + x]! - a[y * n + y]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, m) => {
    values[m] = a[src * n + src]!;
    for (let i = 0; i < n; i++) vectors[i * n + m] = v[i * n + src]!;
  });
  return { values, vectors };
}
