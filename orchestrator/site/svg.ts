// Build-time rendering of a Vega-Lite spec to SVG (vl.compile -> vega.parse -> headless
// View -> toSVG), so every chart is readable with JavaScript off. Vega escapes the text
// it writes into the SVG; ids are made unique per chart so many SVGs can share a page.
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { VlSpec } from './charts.js';

export async function renderSvg(spec: VlSpec, idPrefix: string): Promise<string> {
  const compiled = compile(spec as unknown as Parameters<typeof compile>[0]).spec;
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
