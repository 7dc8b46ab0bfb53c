// What every page is rendered with: the eta templates of report-site/templates, the hashed
// asset paths and the value formatters. Light (no Vega), so the build's own thread and each
// render worker make one of their own.
import { Eta } from 'eta';
import { join } from 'node:path';
import { REPORT_SITE_DIR } from './assets.js';
import { changeText } from '../analysis/change-text.js';
import { formatDuration, formatNumber, formatP, formatPercent, formatTime, formatValue } from './format.js';
import { rel } from './names.js';

export const fmt = { time: formatTime, number: formatNumber, value: formatValue, percent: formatPercent, change: changeText, duration: formatDuration, p: formatP };

export interface PageContext {
  resultsDir: string;
  eta: Eta;
  /** Logical asset name (site.css, vega.js...) -> site-relative path with its content hash. */
  assetPaths: Record<string, string>;
}

export function pageContext(resultsDir: string, assetPaths: Record<string, string>): PageContext {
  return { resultsDir, eta: new Eta({ views: join(REPORT_SITE_DIR, 'templates'), cache: true, autoEscape: true }), assetPaths };
}

export function page(ctx: PageContext, template: string, pagePath: string, data: Record<string, unknown>): string {
  return ctx.eta.render(template, { ...data, root: rel(pagePath, ''), assets: ctx.assetPaths, fmt });
}

export function sizeText(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1048576).toFixed(1)} MiB`;
}
