// How numbers, units, durations, times and labels read on the report's pages.

export function labelsText(labels: Record<string, string>): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e9 || abs < 1e-3)) return value.toExponential(2);
  return Number(value.toPrecision(digits + 3)).toLocaleString('en-US', { maximumFractionDigits: abs >= 100 ? 1 : digits });
}

/** A sample's value in its unit: bytes as KiB/MiB/GiB, everything else as a number. */
export function formatValue(value: number | null | undefined, unit: string): string {
  if (unit === 'bytes' && typeof value === 'number' && Number.isFinite(value) && Math.abs(value) >= 1024) {
    const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let v = value / 1024;
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
  }
  return formatNumber(value);
}

export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return `${value > 0 ? '+' : ''}${value.toFixed(1)} %`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = ms / 1000;
  if (s < 9.95) return `${s.toFixed(1)} s`;
  // round first, then split: 59.6 s is "1 min 0 s", never "60 s"; 27 min 59.7 s is "28 min 0 s"
  const whole = Math.round(s);
  if (whole < 60) return `${whole} s`;
  const m = Math.floor(whole / 60);
  if (m < 60) return `${m} min ${whole % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** 2026-11-22 05:22 UTC */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}


/** A latency in nanoseconds, in the unit that reads best: 850 ns, 24.4 µs, 12.3 ms, 1.20 s. */
export function formatNanoseconds(ns: number | null | undefined): string {
  if (ns === null || ns === undefined || !Number.isFinite(ns)) return '—';
  // round to 3 significant digits first, so 999,600 ns reads "1 ms", never "1,000 µs"
  const rounded = Number(ns.toPrecision(3));
  const abs = Math.abs(rounded);
  const [value, unit] = abs < 1e3 ? [rounded, 'ns'] : abs < 1e6 ? [rounded / 1e3, 'µs'] : abs < 1e9 ? [rounded / 1e6, 'ms'] : [rounded / 1e9, 's'];
  return `${Number(value.toPrecision(3)).toLocaleString('en-US')} ${unit}`;
}

/** A packet rate: "4,000 pps"; fractions kept only for small rates ("12.5 pps"). */
export function formatRate(pps: number | null | undefined): string {
  if (pps === null || pps === undefined || !Number.isFinite(pps)) return '—';
  return `${pps.toLocaleString('en-US', { maximumFractionDigits: Math.abs(pps) >= 100 ? 0 : 1 })} pps`;
}
