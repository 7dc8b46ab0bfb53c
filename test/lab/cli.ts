// The local lab's command line:  node --import tsx test/lab/cli.ts <verb> [options]   (npm run lab -- <verb>)
//
//   up [--hosts N] [--subnet K] [--dir D] [--no-reports] [--hypervisor] [--agent-package]
//                                                          bring the lab up (or reuse it), write its inventory;
//                                                          --hypervisor: also libvirtd and the kvm test guest
//                                                          (test/lab/hypervisor.ts; root, install-deps.sh);
//                                                          --agent-package: build the packaged agent, serve its
//                                                          apt repository, install v1 and start it
//                                                          (test/lab/agent-package/; root)
//   down [--subnet K] [--dir D]                            stop every process of the lab, by PID
//   status [--subnet K] [--dir D]                          what runs; exit 1 when something is down
//   inventory [--subnet K] [--dir D] [--out F]             write the lab's inventory, print its path
//
// Plain output; non-zero exit on failure.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { defaultLabDir, labAttach, labUp, type Lab } from './lab.js';
import { hypervisorUp, linkStableGuest, STABLE_GUEST_DIR } from './hypervisor.js';
import { stopStartedLibvirtd } from '../kvm-guest/libvirtd.js';
import { installLabAgent, linkStablePackages, stopLabAgent } from './agent-package/lab-agent.js';

const USAGE = `usage: node --import tsx test/lab/cli.ts <up|down|status|inventory> [options]
  up        [--hosts N] [--subnet K] [--dir D] [--no-reports] [--hypervisor] [--agent-package]
  down      [--subnet K] [--dir D]
  status    [--subnet K] [--dir D]
  inventory [--subnet K] [--dir D] [--out FILE]`;

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`--${name} needs a number, got ${v}`);
  return Number(v);
}

function describe(lab: Lab, inventory?: string): string {
  const lines = [`lab ${lab.dir} (subnet ${lab.subnet})`];
  if (inventory) lines.push(`inventory ${inventory}`);
  lines.push(`client key ${lab.clientKey}`, `known_hosts ${lab.knownHostsFile}`);
  for (const h of lab.hosts) lines.push(`host ${h.name} ${h.address}:${h.port} ${h.running ? 'up' : 'DOWN'}`);
  if (lab.agentRepo) lines.push(`agent repository ${lab.agentRepo.url} ${lab.agentRepo.running ? 'up' : 'DOWN'}`);
  if (lab.reports) {
    const r = lab.reports;
    lines.push(`host ${r.name} ${r.address}:${r.port} ${r.running ? 'up' : 'DOWN'} (reports)`);
    lines.push(`reports ${r.httpUrl} ${r.httpRunning ? 'up' : 'DOWN'} serving ${r.wwwDir}/current`);
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      hosts: { type: 'string' },
      subnet: { type: 'string' },
      dir: { type: 'string' },
      out: { type: 'string' },
      'no-reports': { type: 'boolean' },
      hypervisor: { type: 'boolean' },
      'agent-package': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const verb = positionals[0];
  if (values.help || !verb) {
    console.log(USAGE);
    return verb || values.help ? 0 : 2;
  }
  if (positionals.length > 1) throw new Error(`unexpected argument ${positionals[1]}\n${USAGE}`);
  const subnet = int('subnet', values.subnet);
  const dir = path.resolve(values.dir ?? defaultLabDir(subnet ?? 0));

  switch (verb) {
    case 'up': {
      const t0 = Date.now();
      const lab = await labUp({
        dir,
        ...(subnet !== undefined ? { subnet } : {}),
        ...(values.hosts !== undefined ? { hosts: int('hosts', values.hosts)! } : {}),
        ...(values['no-reports'] ? { reports: false } : {}),
        ...(values['agent-package'] ? { agentRepo: true } : {}),
      });
      const inv = await lab.writeInventory();
      console.log(describe(lab, inv));
      if (values.hypervisor) {
        const t1 = Date.now();
        const hv = await hypervisorUp();
        await linkStableGuest(hv);
        // `down` stops the daemons this lab started (none when libvirtd was already running);
        // a second `up` keeps what the first one recorded
        const file = path.join(lab.dir, 'hypervisor.json');
        const before = existsSync(file) ? ((JSON.parse(await readFile(file, 'utf8')) as { started?: { name: string; pid: number }[] }).started ?? []) : [];
        await writeFile(`${file}.tmp`, `${JSON.stringify({ started: [...before, ...hv.libvirtd.started] }, null, 2)}\n`);
        await rename(`${file}.tmp`, file);
        console.log(`hypervisor: libvirtd ${hv.libvirtd.started.length > 0 ? `started (${hv.libvirtd.started.map((d) => `${d.name} ${d.pid}`).join(', ')})` : 'already running'}; guest in ${STABLE_GUEST_DIR} (${Date.now() - t1} ms)`);
      }
      if (values['agent-package'] && lab.agentRepo) {
        const t1 = Date.now();
        const repo = lab.agentRepo;
        const stable = await linkStablePackages(repo.packages);
        const pid = await installLabAgent(lab.dir, repo.packages, 'v1');
        const names = Object.values(repo.packages.packages).map((p) => `${p.version}${p.broken ? ' (broken)' : ''}`).join(', ');
        console.log(`agent packages ${names} in ${stable}/ (${repo.packages.dir}); apt repository ${repo.url} (deb [trusted=yes] ${repo.url} ./)`);
        console.log(`agent: midolman ${repo.packages.packages.v1.version} installed and running (pid ${pid}) (${Date.now() - t1} ms)`);
      }
      console.log(`up in ${Date.now() - t0} ms; stop with: node --import tsx test/lab/cli.ts down --dir ${lab.dir}`);
      return 0;
    }
    case 'down': {
      if (!existsSync(path.join(dir, 'lab.json'))) {
        console.log(`no lab in ${dir}; nothing to stop`);
        return 0;
      }
      const lab = await labAttach(dir);
      const agent = await stopLabAgent(lab.dir);
      if (agent !== undefined) console.log(`agent (pid ${agent}) stopped`);
      await lab.down();
      if (existsSync(path.join(dir, 'hypervisor.json'))) {
        const saved = JSON.parse(await readFile(path.join(dir, 'hypervisor.json'), 'utf8')) as { started?: { name: string; pid: number }[] };
        const stopped = await stopStartedLibvirtd(saved.started ?? []);
        await rm(path.join(dir, 'hypervisor.json'), { force: true });
        if (stopped.length > 0) console.log(`libvirtd/virtlogd stopped (${stopped.join(', ')})`);
      }
      console.log(`lab ${dir} stopped`);
      return 0;
    }
    case 'status': {
      if (!existsSync(path.join(dir, 'lab.json'))) {
        console.log(`no lab in ${dir}`);
        return 1;
      }
      const lab = await labAttach(dir);
      console.log(describe(lab));
      const down = lab.hosts.some((h) => !h.running) || (lab.reports && (!lab.reports.running || !lab.reports.httpRunning)) || (lab.agentRepo && !lab.agentRepo.running);
      return down ? 1 : 0;
    }
    case 'inventory': {
      const lab = await labAttach(dir);
      console.log(await lab.writeInventory(values.out ? { file: values.out } : {}));
      return 0;
    }
    default:
      throw new Error(`unknown verb ${verb}\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`lab: ${(err instanceof Error ? err.message : String(err)).replace(/^lab: /, '')}`);
    process.exit(1);
  },
);
