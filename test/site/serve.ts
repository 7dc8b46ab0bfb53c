// A tiny static file server for the browser test: 127.0.0.1 only, random port.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.atom': 'application/atom+xml',
  '.svg': 'image/svg+xml',
};

export async function serveDir(root: string): Promise<{ url: string; close: () => Promise<void>; requests: string[] }> {
  const requests: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const data = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'x-content-type-options': 'nosniff' }).end(data);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * A browser context for pages `server` serves: a request anywhere else (another host, port or
 * scheme) is aborted and its URL pushed to `offsite`, which a test expects to stay empty.
 */
export async function servedOnlyContext(browser: Browser, server: { url: string }, javaScriptEnabled: boolean, offsite: string[]): Promise<BrowserContext> {
  const ctx = await browser.newContext({ javaScriptEnabled, viewport: { width: 1280, height: 900 } });
  await ctx.route('**', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' && server.url.startsWith(`${url.protocol}//${url.host}/`)) return route.continue();
    offsite.push(route.request().url());
    return route.abort();
  });
  return ctx;
}
