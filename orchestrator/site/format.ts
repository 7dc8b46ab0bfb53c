// How numbers, units, durations, times and labels read on the report's pages.
import { signedPercentText } from '../analysis/change-text.js';

export function labelsText(labels: Record<string, string>): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** What the lines of one chart share and what tells them apart (lineNames). */
export interface LineNames {
  /** The labels every line has with the same value, as labelsText writes them ("mode=linear, phase=long-running"); '' when none. */
  common: string;
  /** Per line (in the order given): its other labels ("offered_pps=3000, step=2"); '' for a line that has no other. */
  names: string[];
}

/**
 * The labels a chart's lines share, and each line's labels that are not shared: a legend names
 * each line by what differs (eight lines of "mode=linear, offered_pps=3000, phase=long-running,
 * step=N" cut at 40 characters read alike; "step=N" does not) and says what is common once. Made
 * once per chart from the lines' label records (lines x keys), never per point. A key a line lacks
 * is not shared. Distinct label sets get distinct names: what they share is left out of both.
 */
export function lineNames(labelSets: readonly Readonly<Record<string, string>>[]): LineNames {
  const first = labelSets[0];
  if (!first) return { common: '', names: [] };
  const shared = new Map(Object.entries(first));
  for (const labels of labelSets) {
    for (const [key, value] of shared) if (!Object.hasOwn(labels, key) || labels[key] !== value) shared.delete(key);
  }
  const common = labelsText(Object.fromEntries(shared));
  const names = labelSets.map((labels) => labelsText(Object.fromEntries(Object.entries(labels).filter(([key]) => !shared.has(key)))));
  return { common, names };
}

export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return numberText(roundTo(value, digits));
}

// ---- Units: one formatter per unit family, for axes, tooltips and tables alike ----
//
// A metric's unit belongs to a family: bytes (shown in binary units, B KiB MiB GiB TiB PiB),
// time (ns µs ms s), percent (a ratio is shown as a percentage) or a plain number in its own
// unit (pps, IOPS, events/s...). A value is shown in the family's unit that reads best, with
// three significant digits (whole numbers from 1,000 up), and never with an SI prefix stacked on
// a unit: 0.19 s is "190 ms", never "190m s"; a load of 0.6 is "0.6", never "600m". A chart's
// axis picks one such unit for all its values (`displayUnit`) and its data is scaled to it.

export interface UnitStep {
  /** In the family's base unit (bytes, seconds, percent, the unit itself). */
  size: number;
  label: string;
}

export interface UnitFamily {
  name: 'bytes' | 'time' | 'percent' | 'number';
  /** One of the metric's unit in the family's base unit: MiB is 1,048,576 bytes, ms 0.001 s, a ratio 100 %. */
  base: number;
  /** The units a value can be shown in, smallest first; labels include `per` ("MiB/s"). */
  steps: readonly UnitStep[];
  /** The step of the metric's own unit: zero is shown in it. */
  own: number;
  /** Counted things: an axis of them has ticks at whole numbers only. */
  integer: boolean;
}

/** Units that are plain numbers: the metric's name says what they count. */
const DIMENSIONLESS = new Set(['', 'count', 'bool', 'load', 'number', 'none']);
const INTEGER_UNITS = new Set(['count', 'bool']);
const BYTE_STEPS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
const BYTE_UNITS: Record<string, number> = { B: 0, byte: 0, bytes: 0, KiB: 1, MiB: 2, GiB: 3, TiB: 4, PiB: 5 };
const TIME_STEPS: readonly [number, string][] = [
  [1e-9, 'ns'],
  [1e-6, 'µs'],
  [1e-3, 'ms'],
  [1, 's'],
];
const TIME_UNITS: Record<string, number> = { ns: 0, us: 1, 'µs': 1, 'μs': 1, ms: 2, s: 3, sec: 3, seconds: 3 };

/** The family of a metric's unit ("bytes", "KiB/s", "ms", "ns/s", "%", "ratio", "pps"...). */
export function unitFamily(unit: string): UnitFamily {
  const per = /^(.+)\/s$/.exec(unit);
  const [head, suffix] = per && (per[1]! in BYTE_UNITS || per[1]! in TIME_UNITS) ? [per[1]!, '/s'] : [unit, ''];
  if (head in BYTE_UNITS) {
    const own = BYTE_UNITS[head]!;
    return { name: 'bytes', base: 1024 ** own, steps: BYTE_STEPS.map((label, i) => ({ size: 1024 ** i, label: `${label}${suffix}` })), own, integer: false };
  }
  if (head in TIME_UNITS) {
    const own = TIME_UNITS[head]!;
    return { name: 'time', base: TIME_STEPS[own]![0], steps: TIME_STEPS.map(([size, label]) => ({ size, label: `${label}${suffix}` })), own, integer: false };
  }
  if (unit === '%' || unit === 'ratio') return { name: 'percent', base: unit === 'ratio' ? 100 : 1, steps: [{ size: 1, label: '%' }], own: 0, integer: false };
  const label = DIMENSIONLESS.has(unit) ? '' : unit;
  const steps = [
    { size: 1, label },
    { size: 1e6, label: `million${label ? ` ${label}` : ''}` },
    { size: 1e9, label: `billion${label ? ` ${label}` : ''}` },
  ];
  return { name: 'number', base: 1, steps, own: 0, integer: INTEGER_UNITS.has(unit) };
}

/** Rounded to `digits` significant digits; whole numbers from 10^digits up. */
function roundTo(value: number, digits: number): number {
  const rounded = Math.abs(value) >= 10 ** digits ? Math.round(value) : Number(value.toPrecision(digits));
  return rounded === 0 ? 0 : rounded;
}

// One formatter for every number: toLocaleString with options builds a new Intl.NumberFormat per
// call (about 0.5 ms; it was a quarter of a full site build's CPU), format() on a kept one is ~30x less.
const NUMBER_TEXT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 20 });

/**
 * As NUMBER_TEXT.format (en-US, grouped thousands), without Intl for the common cases: below 1,000
 * a number's shortest text is what Intl writes (no exponent), and a safe integer is its digits
 * grouped by threes. Checked against Intl on millions of rounded values (test/site/format.test.ts).
 * Intl cost about 1.5 us a number, a tenth of a job page's drawing.
 */
export function numberText(value: number): string {
  if (Math.abs(value) < 1000) {
    const text = String(value);
    if (!text.includes('e') && !Object.is(value, -0)) return text;
  } else if (Number.isSafeInteger(value)) {
    return groupedDigits(value);
  }
  return NUMBER_TEXT.format(value);
}

function groupedDigits(value: number): string {
  const digits = String(Math.abs(value));
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? `-${out}` : out;
}

/** The step a magnitude (in base units) reads best in: the largest it reaches, the unit's own for zero. */
function stepFor(family: UnitFamily, magnitude: number): number {
  if (!(magnitude > 0) || !Number.isFinite(magnitude)) return family.own;
  let i = 0;
  while (i + 1 < family.steps.length && family.steps[i + 1]!.size <= magnitude) i++;
  return i;
}

function joined(number: string, label: string): string {
  return label ? `${number} ${label}` : number;
}

/**
 * A value in its unit, as it reads best: 256 GiB, 190 ms, 1 ms (not "1,000 µs"), 3,500 pps,
 * 12.3 %, 0.6 (a load), 3 (a count). `digits` significant digits (3; tooltips use 4).
 */
export function formatValue(value: number | null | undefined, unit: string, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const family = unitFamily(unit);
  const inBase = value * family.base;
  let i = stepFor(family, Math.abs(inBase));
  let shown = roundTo(inBase / family.steps[i]!.size, digits);
  // rounding can reach the next unit: 999.6 µs is "1 ms", 1,023.9 KiB is "1 MiB"
  const next = family.steps[i + 1];
  if (next && Math.abs(shown) * family.steps[i]!.size >= next.size) {
    i++;
    shown = roundTo(inBase / next.size, digits);
  }
  return joined(numberText(shown), family.steps[i]!.label);
}

/** The unit a chart axis shows a set of values in, and how to get there. */
export interface DisplayUnit {
  /** Multiply a value in the metric's unit by this to get it in the display unit. */
  factor: number;
  /** The display unit's label ("GiB", "ms", "%", "pps", "" for a plain number). */
  label: string;
  /** Whole numbers only (a count shown as is): axis ticks at whole numbers. */
  integer: boolean;
}

/** One unit for all of `values` (the step their largest magnitude reads best in). */
export function displayUnit(unit: string, values: readonly number[]): DisplayUnit {
  const family = unitFamily(unit);
  let max = 0;
  for (const v of values) if (Number.isFinite(v)) max = Math.max(max, Math.abs(v * family.base));
  const i = stepFor(family, max);
  const step = family.steps[i]!;
  return { factor: family.base / step.size, label: step.label, integer: family.integer && family.base === step.size };
}

/** A value in a chart's display unit, for its tooltip: "7.308 GiB". */
export function formatIn(value: number | null | undefined, display: DisplayUnit, digits = 4): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return joined(numberText(roundTo(value * display.factor, digits)), display.label);
}

/** An axis title with its display unit: "memory.total (GiB)"; the name alone for a plain number. */
export function withUnit(name: string, label: string): string {
  return label && label !== name ? `${name} (${label})` : name;
}

/** The unit tables as data, for the browser's formatter (assets/compare.js) to use the same families. */
export function unitTables(units: readonly string[]): Record<string, UnitFamily> {
  return Object.fromEntries([...new Set(units)].sort().map((u) => [u, unitFamily(u)]));
}

/** A p-value: two significant digits, "< 0.001" below that. */
export function formatP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '—';
  return p < 0.001 ? '< 0.001' : String(Number(p.toPrecision(2)));
}

/** A relative change in percent, signed, one decimal: "+12.3 %", "-0.4 %"; "0 %" when it rounds to nothing. */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return signedPercentText(value / 100);
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


/** A latency in nanoseconds, in the unit that reads best: 850 ns, 24.4 µs, 12.3 ms, 1.2 s. */
export function formatNanoseconds(ns: number | null | undefined): string {
  return formatValue(ns, 'ns');
}

/** A packet rate: "4,000 pps"; fractions kept only for small rates ("12.5 pps"). */
export function formatRate(pps: number | null | undefined): string {
  return formatValue(pps, 'pps');
}
