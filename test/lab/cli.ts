// The local lab's command line:  node --import tsx test/lab/cli.ts <verb> [options]   (npm run lab -- <verb>)
//
//   up [--hosts N] [--subnet K] [--dir D] [--no-reports]   bring the lab up (or reuse it), write its inventory
//   down [--subnet K] [--dir D]                            stop every process of the lab, by PID
//   status [--subnet K] [--dir D]                          what runs; exit 1 when something is down
//   inventory [--subnet K] [--dir D] [--out F]             write the lab's inventory, print its path
//
// Plain output; non-zero exit on failure.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultLabDir, labAttach, labUp, type Lab } from './lab.js';

const USAGE = `usage: node --import tsx test/lab/cli.ts <up|down|status|inventory> [options]
  up        [--hosts N] [--subnet K] [--dir D] [--no-reports]
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
      });
      const inv = await lab.writeInventory();
      console.log(describe(lab, inv));
      console.log(`up in ${Date.now() - t0} ms; stop with: node --import tsx test/lab/cli.ts down --dir ${lab.dir}`);
      return 0;
    }
    case 'down': {
      if (!existsSync(path.join(dir, 'lab.json'))) {
        console.log(`no lab in ${dir}; nothing to stop`);
        return 0;
      }
      const lab = await labAttach(dir);
      await lab.down();
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
      const down = lab.hosts.some((h) => !h.running) || (lab.reports && (!lab.reports.running || !lab.reports.httpRunning));
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
