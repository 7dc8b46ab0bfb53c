// What the last build of a site saw (<outDir>/.site-state.json, small, beside the build manifest
// .site-build.json): the fingerprint of its inputs, the keys whose thresholds it used, the first
// file of each page, and what it reported. A build whose inputs have the same fingerprint, with
// every page still there, has nothing to do. Missing or damaged, it is as if there were none.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { WriteFileFn } from './output.js';

export const BUILD_STATE = '.site-state.json';
const BUILD_STATE_SCHEMA = 'orchestrate/site-state@1' as const;

const BuildStateSchema = z.object({
  schema: z.literal(BUILD_STATE_SCHEMA),
  inputs: z.string(),
  probes: z.array(z.object({ host: z.string(), scenario: z.string(), metric: z.string(), labels: z.record(z.string(), z.string()) })),
  pages: z.array(z.string()),
  regressions: z.number().int().nonnegative(),
  problems: z.array(z.object({ path: z.string(), message: z.string() })),
});

export type BuildState = Omit<z.infer<typeof BuildStateSchema>, 'schema'>;

export async function readBuildState(outDir: string): Promise<BuildState | undefined> {
  try {
    const parsed = BuildStateSchema.safeParse(JSON.parse(await readFile(join(outDir, BUILD_STATE), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function writeBuildState(outDir: string, state: BuildState, writeFile: WriteFileFn): Promise<void> {
  await writeFile(join(outDir, BUILD_STATE), JSON.stringify({ schema: BUILD_STATE_SCHEMA, ...state }));
}
