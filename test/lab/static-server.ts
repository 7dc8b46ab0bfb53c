// The reports host's web server in the local lab: serves <root>/current read-only over HTTP on one
// loopback address. `current` is resolved again at every request, so a publisher that swaps the
// symlink atomically switches the live site in one step, and a request never mixes two versions.
//
//   node --import tsx test/lab/static-server.ts --root <dir> --host 127.66.K.2 --port 8080 [--pid-file F]
//
// The PID file is written (atomically) only once the socket is bound: its presence means "serving".
// Stops on SIGTERM/SIGINT. Prints one line per error and a start line; no request log.

import { createReadStream } from 'node:fs';
import { renameSync, writeFileSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string', default: '8080' },
    'pid-file': { type: 'string' },
  },
});
const root = values.root;
const host = values.host;
const port = Number(values.port);
if (!root || !host || !Number.isInteger(port)) {
  console.error('usage: static-server.ts --root DIR --host ADDR --port N');
  process.exit(2);
}
if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) {
  // Network rule: the lab listens on loopback only.
  console.error(`refusing to bind ${host}: the lab serves on 127.0.0.0/8 only`);
  process.exit(2);
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  // the report's feed (regressions.atom): feed readers and browsers know it by this type
  '.atom': 'application/atom+xml; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.zip': 'application/zip',
};

function send(res: http.ServerResponse, code: number, text: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : `${text}\n`);
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
  const url = new URL(req.url ?? '/', 'http://lab.invalid');
  let rel: string;
  try {
    rel = decodeURIComponent(url.pathname);
  } catch {
    return send(res, 400, 'bad path');
  }
  if (rel.includes('\0')) return send(res, 400, 'bad path');

  let site: string;
  try {
    site = await realpath(path.join(root!, 'current'));
  } catch {
    return send(res, 404, 'no site published yet (current is missing)');
  }
  const wanted = path.join(site, path.posix.normalize(`/${rel}`));
  let file: string;
  try {
    file = await realpath(wanted);
  } catch {
    return send(res, 404, 'not found');
  }
  if (file !== site && !file.startsWith(site + path.sep)) return send(res, 404, 'not found');

  let st = await stat(file);
  if (st.isDirectory()) {
    if (!url.pathname.endsWith('/')) return send(res, 301, 'moved', { location: `${url.pathname}/${url.search}` });
    file = path.join(file, 'index.html');
    try {
      st = await stat(file);
    } catch {
      return send(res, 404, 'not found');
    }
  }
  if (!st.isFile()) return send(res, 404, 'not found');

  res.writeHead(200, {
    'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': st.size,
    'last-modified': st.mtime.toUTCString(),
    'cache-control': 'no-cache',
  });
  if (req.method === 'HEAD') return void res.end();
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    console.error(`error serving ${req.url}: ${String(err)}`);
    if (!res.headersSent) send(res, 500, 'internal error');
    else res.destroy();
  });
});
server.keepAliveTimeout = 5000;
server.on('error', (err) => {
  console.error(`static-server: ${String(err)}`);
  process.exit(1);
});
server.listen(port, host, () => {
  const pidFile = values['pid-file'];
  if (pidFile) {
    writeFileSync(`${pidFile}.${process.pid}.tmp`, `${process.pid}\n`);
    renameSync(`${pidFile}.${process.pid}.tmp`, pidFile);
  }
  console.log(`static-server pid ${process.pid} serving ${root}/current on http://${host}:${port}/`);
});

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
