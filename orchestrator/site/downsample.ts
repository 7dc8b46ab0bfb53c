// Display downsampling that keeps peaks: each bucket keeps its first, min, max and last
// point (in time order), so spikes survive however long the series. The full data stays
// downloadable beside the chart.
export type Point = readonly [number, number | null];

export function downsampleMinMax(points: readonly Point[], maxPoints: number): Point[] {
  if (points.length <= maxPoints || maxPoints < 8) return [...points];
  const buckets = Math.max(1, Math.floor(maxPoints / 4));
  const size = points.length / buckets;
  const out: Point[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * size);
    const end = Math.min(points.length, Math.floor((b + 1) * size));
    if (end <= start) continue;
    let minI = -1;
    let maxI = -1;
    let gap = false;
    for (let i = start; i < end; i++) {
      const v = points[i]![1];
      if (v === null) {
        gap = true;
        continue;
      }
      if (minI < 0 || v < points[minI]![1]!) minI = i;
      if (maxI < 0 || v > points[maxI]![1]!) maxI = i;
    }
    // the first, min, max and last points, each once, in time order (min and max lie between the
    // first and the last): no set or sort per bucket, which a render worker mostly runs cold
    const last = end - 1;
    const lower = minI < maxI ? minI : maxI;
    const upper = minI < maxI ? maxI : minI;
    out.push(points[start]!);
    if (lower > start && lower < last) out.push(points[lower]!);
    if (upper > start && upper < last && upper !== lower) out.push(points[upper]!);
    if (last > start) out.push(points[last]!);
    // a gap (unknown values) in the bucket stays a gap in the line
    if (gap && out.at(-1)?.[1] !== null) out.push([points[end - 1]![0], null]);
  }
  return out;
}

/**
 * Display downsampling for series drawn stacked (heap pools): the mean of each run of `k`
 * consecutive points, stamped with the run's first time. Series sampled together (same start
 * and step) stay aligned point for point, which min/max buckets would not keep them.
 */
export function downsampleMean(points: readonly Point[], maxPoints: number): Point[] {
  if (points.length <= maxPoints || maxPoints < 1) return [...points];
  const k = Math.ceil(points.length / maxPoints);
  const out: Point[] = [];
  for (let i = 0; i < points.length; i += k) {
    const run = points.slice(i, i + k);
    const values = run.map(([, v]) => v).filter((v): v is number => v !== null);
    out.push([run[0]![0], values.length ? values.reduce((a, b) => a + b, 0) / values.length : null]);
  }
  return out;
}
