// Build-time rendering of a Vega-Lite spec to SVG (vl.compile -> vega.parse -> headless
// View -> toSVG), so every chart is readable with JavaScript off. Vega escapes the text
// it writes into the SVG; ids are made unique per chart so many SVGs can share a page.
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { VlSpec } from './charts.js';

type CompileOptions = NonNullable<Parameters<typeof compile>[1]>;
type VlLogger = NonNullable<CompileOptions['logger']>;

/** A Vega-Lite logger that keeps warnings in `into` instead of printing them. */
function collectingLogger(into: string[]): VlLogger {
  const logger = {
    level: () => logger,
    error: (...args: unknown[]) => (into.push(`error: ${args.join(' ')}`), logger),
    warn: (...args: unknown[]) => (into.push(args.join(' ')), logger),
    info: () => logger,
    debug: () => logger,
  };
  return logger as unknown as VlLogger;
}

/** What Vega-Lite warns about when compiling `spec` (the site's own specs should draw none). */
export function vegaLiteWarnings(spec: VlSpec): string[] {
  const warnings: string[] = [];
  compile(spec as unknown as Parameters<typeof compile>[0], { logger: collectingLogger(warnings) });
  return warnings;
}

/** Parsed Vega dataflows by chart shape (the spec without its data): charts of one kind share one. */
const runtimes = new Map<string, vega.Runtime>();
const MAX_RUNTIMES = 256;

/**
 * The spec with every inline dataset (`data: {values}`) replaced by a named one, and the values by
 * name: what is left is the chart's shape, compiled and parsed once however many charts have it.
 */
export function separateData(spec: unknown, datasets: Map<string, unknown[]> = new Map()): { shape: unknown; datasets: Map<string, unknown[]> } {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      const values = key === 'data' && value !== null && typeof value === 'object' ? (value as { values?: unknown }).values : undefined;
      if (Array.isArray(values) && Object.keys(value as object).length === 1) {
        const name = `inline_${datasets.size}`;
        datasets.set(name, values);
        out[key] = { name };
      } else {
        out[key] = walk(value);
      }
    }
    return out;
  };
  return { shape: walk(spec), datasets };
}

function runtimeFor(shape: unknown): vega.Runtime {
  const key = JSON.stringify(shape);
  let runtime = runtimes.get(key);
  if (runtime) {
    // most recently used last
    runtimes.delete(key);
  } else {
    // Vega-Lite's warnings are for whoever writes the specs (tests assert there are none): they never
    // reach the terminal of someone building a report.
    const compiled = compile(shape as Parameters<typeof compile>[0], { logger: collectingLogger([]) }).spec;
    runtime = vega.parse(compiled);
    if (runtimes.size >= MAX_RUNTIMES) runtimes.delete(runtimes.keys().next().value!);
  }
  runtimes.set(key, runtime);
  return runtime;
}

export async function renderSvg(spec: VlSpec, idPrefix: string): Promise<string> {
  const { shape, datasets } = separateData(spec);
  const view = new vega.View(runtimeFor(shape), { renderer: 'none' });
  try {
    // Vega marks the rows it ingests: it gets copies, the spec's own rows stay as they are.
    for (const [name, values] of datasets) view.data(name, values.map((row) => (row !== null && typeof row === 'object' ? { ...row } : row)));
    const svg = await view.toSVG();
    return prefixIds(svg, idPrefix);
  } finally {
    view.finalize();
  }
}

/**
 * Makes the SVG's ids unique on its page and the same on every build: each id becomes the prefix
 * and its order of first appearance (Vega numbers its clip paths with a counter that runs across
 * every chart a process draws, so its own numbers depend on what was drawn before).
 */
export function prefixIds(svg: string, prefix: string): string {
  const safe = prefix.replace(/[^A-Za-z0-9_-]/g, '_');
  const ids = new Map<string, string>();
  const named = (id: string) => {
    let name = ids.get(id);
    if (name === undefined) ids.set(id, (name = `${safe}-${id.replace(/\d+$/, '')}${ids.size + 1}`));
    return name;
  };
  return svg
    .replace(/\sid="([^"]+)"/g, (_m, id: string) => ` id="${named(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${named(id)})`)
    .replace(/(xlink:)?href="#([^"]+)"/g, (_m, x: string | undefined, id: string) => `${x ?? ''}href="#${named(id)}"`)
    .replace(/^<svg /, '<svg role="img" focusable="false" ');
}
