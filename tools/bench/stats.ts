// Percentiles of samples and of Prometheus histograms. Pure.

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** The q-quantile (0..1) of `values` by linear interpolation between closest ranks; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? NaN;
  const b = sorted[hi] ?? NaN;
  return a + (b - a) * (pos - lo);
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { n, min: NaN, p50: NaN, p99: NaN, max: NaN, mean: NaN };
  return {
    n,
    min: Math.min(...values),
    p50: quantile(values, 0.5),
    p99: quantile(values, 0.99),
    max: Math.max(...values),
    mean: values.reduce((s, v) => s + v, 0) / n,
  };
}

/** One cumulative bucket of a histogram: observations <= `le`. */
export interface Bucket {
  le: number;
  count: number;
}

/**
 * The q-quantile of a cumulative histogram, interpolated linearly inside the bucket it falls in, as
 * Prometheus' histogram_quantile does (the first bucket is taken to start at 0; a quantile in the
 * +Inf bucket is reported as the highest finite bound). NaN without observations.
 */
export function histogramQuantile(buckets: readonly Bucket[], q: number): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted[sorted.length - 1]?.count ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket <= 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** Observations at or below `le` (which must be a bucket bound) over all observations. */
export function shareAtOrBelow(buckets: readonly Bucket[], le: number): number {
  const total = buckets.find((b) => !Number.isFinite(b.le))?.count ?? Math.max(0, ...buckets.map((b) => b.count));
  const at = buckets.find((b) => b.le === le);
  if (at === undefined) throw new RangeError(`histogram has no bucket le=${le}`);
  return total === 0 ? NaN : at.count / total;
}
