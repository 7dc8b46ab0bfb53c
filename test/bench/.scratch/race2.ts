import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { labUp } from '../../lab/lab.js';
const dir = await mkdtemp(path.join(os.tmpdir(), 'race-'));
const lab = await labUp({ subnet: 209, hosts: 10, dir, reports: false });
try {
  const key = await readFile(lab.clientKey);
  const clients = await Promise.all(lab.hosts.map((h) => new Promise<ssh2.Client>((res, rej) => { const c = new ssh2.Client(); c.on('ready', () => res(c)).on('error', rej).connect({ host: h.address, port: h.port, username: 'root', privateKey: key }); })));
  let lateNull = 0, syncNull = 0, total = 0;
  const one = (c: ssh2.Client, sync: boolean) => new Promise<void>((res) => c.exec("sh -c 'echo present'", async (e, ch) => {
    let code: number | null = null;
    if (sync) ch.on('exit', (x: number) => { code = x; });
    else await Promise.resolve().then(() => ch.on('exit', (x: number) => { code = x; }));
    ch.resume(); ch.end();
    ch.on('close', () => { total++; if (code === null) { if (sync) syncNull++; else lateNull++; } res(); });
  }));
  for (let i = 0; i < 10; i++) { await Promise.all(clients.map((c) => one(c, true))); await Promise.all(clients.map((c) => one(c, false))); }
  console.log(`listener attached in callback: ${syncNull} lost; after a microtask: ${lateNull} lost; of ${total / 2} each`);
  clients.forEach((c) => c.end());
} finally { await lab.down(); await rm(dir, { recursive: true, force: true }); }
