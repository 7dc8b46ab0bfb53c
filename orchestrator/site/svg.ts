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

export async function renderSvg(spec: VlSpec, idPrefix: string): Promise<string> {
  // Vega-Lite's warnings are for whoever writes the specs (tests assert there are none): they never
  // reach the terminal of someone building a report.
  const compiled = compile(spec as unknown as Parameters<typeof compile>[0], { logger: collectingLogger([]) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return prefixIds(svg, idPrefix);
  } finally {
    view.finalize();
  }
}

export function prefixIds(svg: string, prefix: string): string {
  const safe = prefix.replace(/[^A-Za-z0-9_-]/g, '_');
  return svg
    .replace(/\sid="([^"]+)"/g, (_m, id: string) => ` id="${safe}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${safe}-${id})`)
    .replace(/(xlink:)?href="#([^"]+)"/g, (_m, x: string | undefined, id: string) => `${x ?? ''}href="#${safe}-${id}"`)
    .replace(/^<svg /, '<svg role="img" focusable="false" ');
}
