import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { labUp } from '../../lab/lab.js';
import { SshConnector } from '../../../orchestrator/connectors/ssh/ssh-connector.js';
import { KnownHosts } from '../../../orchestrator/connectors/ssh/known-hosts.js';
const dir = await mkdtemp(path.join(os.tmpdir(), 'race-'));
const lab = await labUp({ subnet: 209, hosts: 10, dir, reports: false });
try {
  const knownHosts = await KnownHosts.load(lab.knownHostsFile);
  const conns = lab.hosts.map((h) => new SshConnector(h.name, { address: h.address, port: h.port, user: 'root', identityFiles: [lab.clientKey], jump: [], connectTimeoutMs: 10000, keepaliveIntervalMs: 15000, retries: 0 }, { knownHosts, acceptNew: false }));
  await Promise.all(conns.map((c) => c.connect()));
  let nulls = 0, total = 0;
  for (let i = 0; i < 10; i++) {
    const rs = await Promise.all(conns.map((c) => c.run("sh -c 'echo present'")));
    for (const r of rs) { total++; if (r.exitCode === null) nulls++; }
  }
  console.log(`run(): exitCode null in ${nulls}/${total}`);
  await Promise.all(conns.map((c) => c.close()));
} finally { await lab.down(); await rm(dir, { recursive: true, force: true }); }
