/** Median (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile, p in (0, 100]. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Rotates `items` by `round`, so no setup always runs first (A/B/C, B/C/A, C/A/B, ...). */
export function rotation<T>(items: readonly T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export const ms = (value: number, digits = 2) => (Number.isFinite(value) ? `${value.toFixed(digits)} ms` : '—');
export const ratio = (value: number) => (Number.isFinite(value) ? value.toFixed(3) : '—');
export const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB`;

/** The median of per-round values with their range over rounds: "1.012 (0.991–1.040)". */
export function spread(values: readonly number[], format: (value: number) => string = ratio): string {
  if (values.length === 0) return '—';
  return `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
}

/** The same for times: "12 ms (9–15)". */
export function msSpread(values: readonly number[], digits = 0): string {
  if (values.length === 0) return '—';
  const f = (v: number) => v.toFixed(digits);
  return `${f(median(values))} ms (${f(Math.min(...values))}–${f(Math.max(...values))})`;
}
