// The site's static assets, with content-hashed names: our CSS and JS from report-site/assets,
// and vega, vega-lite, vega-embed copied from node_modules (never a CDN). vega-interpreter is
// wrapped into a classic script so Vega runs without eval under the page's CSP.
import { readFile, readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join } from 'node:path';
import { packagePath } from '../package-root.js';
import type { OutFile } from './output.js';
import { sha } from './names.js';

export const REPORT_SITE_DIR = packagePath('report-site', '/');
const require = createRequire(import.meta.url);

export interface Assets {
  /** Logical name (site.css, vega.js...) -> site-relative path with the content hash. */
  paths: Record<string, string>;
  files: OutFile[];
  /** Changes whenever any asset changes. */
  fingerprint: string;
}

function stripSourceMap(text: string): string {
  return text.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

function vendorPath(pkg: string, relative: string): string {
  const entry = require.resolve(pkg);
  // walk up from the package's entry to its root (the directory with its package.json)
  let dir = dirname(entry);
  while (basename(dir) !== pkg.split('/').at(-1) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, relative);
}

async function vendorFile(pkg: string, relative: string): Promise<string> {
  return stripSourceMap(await readFile(vendorPath(pkg, relative), 'utf8'));
}

const VENDORED: [string, string][] = [
  ['vega', 'build/vega.min.js'],
  ['vega-lite', 'build/vega-lite.min.js'],
  ['vega-embed', 'build/vega-embed.min.js'],
  ['vega-interpreter', 'build/vega-interpreter.js'],
];

/**
 * Changes whenever a source of the assets changes, read from the files' sizes and mtimes only
 * (loadAssets reads and hashes them all): a build with nothing new asks only this.
 */
export async function assetSourcesFingerprint(): Promise<string> {
  const own = join(REPORT_SITE_DIR, 'assets');
  const paths = [...VENDORED.map(([pkg, relative]) => vendorPath(pkg, relative)), ...(await readdir(own)).sort().map((name) => join(own, name))];
  const parts = await Promise.all(paths.map(async (path) => {
    const s = await stat(path);
    return `${path}:${s.size}:${s.mtimeMs}`;
  }));
  return sha(parts.join('|'));
}

export function wrapInterpreter(moduleText: string): string {
  const body = moduleText
    .replace(/^import\s*\{([^}]*)\}\s*from\s*'vega-util';\s*$/m, (_m, names: string) => `const {${names}} = window.vega;`)
    .replace(/^export\s*\{\s*expression as expressionInterpreter\s*\};\s*$/m, 'window.vegaInterpreter = { expressionInterpreter: expression };');
  if (/^\s*(import|export)\s/m.test(body)) throw new Error('vega-interpreter: unexpected module syntax; cannot wrap it as a classic script');
  return `(function () {\n${body}\n})();\n`;
}

function hashed(name: string, data: string | Buffer): string {
  const ext = extname(name);
  return `assets/${basename(name, ext)}.${sha(data, 10)}${ext}`;
}

export async function loadAssets(): Promise<Assets> {
  const sources: [string, string | Buffer][] = [
    ['vega.js', await vendorFile('vega', 'build/vega.min.js')],
    ['vega-lite.js', await vendorFile('vega-lite', 'build/vega-lite.min.js')],
    ['vega-embed.js', await vendorFile('vega-embed', 'build/vega-embed.min.js')],
    ['vega-interpreter.js', wrapInterpreter(await vendorFile('vega-interpreter', 'build/vega-interpreter.js'))],
  ];
  const own = join(REPORT_SITE_DIR, 'assets');
  for (const name of (await readdir(own)).sort()) {
    if (/\.(css|js|svg)$/.test(name)) sources.push([name, await readFile(join(own, name))]);
  }
  const paths: Record<string, string> = {};
  const files: OutFile[] = [];
  for (const [name, data] of sources) {
    const path = hashed(name, data);
    paths[name] = path;
    files.push({ path, data });
  }
  return { paths, files, fingerprint: sha(Object.values(paths).join('|')) };
}
