// `npm run bench [-- NAME...]`: runs the benchmark sections (all, or the ones named), prints a
// Markdown table per section and writes test/.output/bench/<name>.json. Exit 0 when every selected
// section ran (targets missed are reported, not failures); 1 when a section threw (for example its
// check that the work was really done failed); 2 for an unknown section name.
//
// A new section: a module exporting `name` and `run()` (see section.ts), added to SECTIONS below.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSection } from './section.js';
import * as analysis from './analysis.js';
import * as cliStart from './cli-start.js';
import * as fleetCli from './fleet-cli.js';
import * as fleetTransport from './fleet-transport.js';
import * as inventoryLoad from './inventory-load.js';
import * as kvm from './kvm.js';
import * as midolman from './midolman.js';
import * as midolmanSwitch from './midolman-switch.js';
import * as publish from './publish.js';
import * as siteBuild from './site-build.js';

const SECTIONS: BenchSection[] = [fleetCli, cliStart, fleetTransport, midolman, midolmanSwitch, kvm, siteBuild, publish, analysis, inventoryLoad];

const OUTPUT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '.output', 'bench');

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--list') || argv.includes('--help') || argv.includes('-h')) {
    console.log('usage: npm run bench [-- SECTION...]   (all sections when none is named)\n\nsections:');
    for (const s of SECTIONS) console.log(`  ${s.name.padEnd(20)} ${s.description ?? ''}`);
    return 0;
  }
  const names = argv.filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !SECTIONS.some((s) => s.name === n));
  if (unknown.length > 0) {
    console.error(`bench: unknown section(s): ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const selected = names.length === 0 ? SECTIONS : SECTIONS.filter((s) => names.includes(s.name));
  await mkdir(OUTPUT_DIR, { recursive: true });
  let failed = 0;
  for (const section of selected) {
    const started = Date.now();
    console.log(`\n## ${section.name}\n`);
    try {
      const result = await section.run();
      const file = path.join(OUTPUT_DIR, `${section.name}.json`);
      await writeFile(file, `${JSON.stringify(result.json, null, 2)}\n`);
      console.log(result.table);
      console.log(`\n(${section.name}: ${((Date.now() - started) / 1000).toFixed(1)} s; raw data in ${path.relative(process.cwd(), file)})`);
    } catch (error) {
      failed++;
      console.error(`\nbench: section ${section.name} FAILED after ${((Date.now() - started) / 1000).toFixed(1)} s:\n${(error as Error)?.stack ?? String(error)}`);
    }
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
