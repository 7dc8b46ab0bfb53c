// Which build of the agent a midolman job measured, from the build-info.json its host wrote after
// the install and the restart (validated: it came from a host). The running agent's own word (the
// version and revision in the MANIFEST of the jar its JVM holds open) wins over the package
// database's; the inventory's git_revision fills in a revision the build does not carry.
import { join } from 'node:path';
import * as z from 'zod';
import { readHostJson } from '../../results/host-json.js';
import { BuildIdentitySchema, type BuildIdentity } from '../../results/manifest.js';
import { rawArtifactsIn } from '../../results/store-layout.js';

const text = (max: number) => z.string().max(max);

/** The part of build-info.json that names the build. */
export const BuildInfoSchema = z.object({
  git_revision: text(64).optional(),
  agent_package: text(200).optional(),
  agent_package_version: text(200).optional(),
  build: z
    .object({
      package: text(200),
      source: z.enum(['none', 'local', 'host', 'apt']),
      version_before: text(200),
      version_after: text(200),
      version_running: text(200),
      /** What the running jar's MANIFEST declares (a MidoNet nightly says "X-SNAPSHOT"). */
      jar_version: text(200).optional(),
      title_running: text(200).optional(),
      revision: text(64),
      /** true: the running agent is the installed build; false: checked and it is not; null: not checked. */
      verified: z.boolean().nullable(),
    })
    .optional(),
});
export type BuildInfo = z.infer<typeof BuildInfoSchema>;

export class BuildInfoError extends Error {
  override readonly name = 'BuildInfoError';
}

/**
 * The identity a build-info.json names (label: "midolman 2.0.0-lab1"); undefined when it names no version and no revision. The
 * version is what the running agent proved; when its check found the agent is not the installed
 * package (verified false, no version of its own), the package's version is not claimed either.
 */
export function buildIdentityOf(info: BuildInfo): BuildIdentity | undefined {
  const pkg = info.build?.package || info.agent_package || 'midolman';
  const installed = info.build?.verified === false ? '' : info.build?.version_after || info.agent_package_version || '';
  const version = info.build?.version_running || installed;
  const revision = (info.build?.revision || info.git_revision || '').toLowerCase();
  if (version === '' && revision === '') return undefined;
  // The label is what trends compare night to night: the version alone when there is one, so a job
  // whose artifacts lack the revision (a failed start, an agent the job does not manage) names the
  // same build the same way. The revision stays in its own field.
  const label = version ? `${pkg} ${version}` : `${pkg} (unknown version, revision ${revision.slice(0, 10)})`;
  return BuildIdentitySchema.parse({ label, package: pkg, ...(version ? { version } : {}), ...(/^[0-9a-f]{4,64}$/.test(revision) ? { revision } : {}) });
}

/** What install.json says about the agent package (a job that failed before build-info still names its build). */
const InstallSchema = z.object({ package: text(200), version_after: text(200) });

/**
 * Reads raw/artifacts/build-info.json; a job that failed before it (an agent that did not come up)
 * is named by what its install phase installed; undefined when neither file is there.
 */
export async function readBuildIdentity(rawDir: string, gitRevision?: string): Promise<BuildIdentity | undefined> {
  const file = join(rawArtifactsIn(rawDir), 'build-info.json');
  const value = await readHostJson(file, (m) => new BuildInfoError(m));
  if (value === undefined) {
    const installFile = join(rawArtifactsIn(rawDir), 'install.json');
    const install = InstallSchema.safeParse(await readHostJson(installFile, (m) => new BuildInfoError(m)));
    if (!install.success) return undefined;
    return buildIdentityOf({ agent_package: install.data.package, agent_package_version: install.data.version_after, ...(gitRevision ? { git_revision: gitRevision } : {}) });
  }
  const parsed = BuildInfoSchema.safeParse(value);
  if (!parsed.success) {
    throw new BuildInfoError(`${file}: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return buildIdentityOf(parsed.data);
}
