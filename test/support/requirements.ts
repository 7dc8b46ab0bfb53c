// What a test needs from the machine (root, a tool, libvirt, a built guest image), checked
// before its tests are registered. A test whose requirement is missing never passes by
// returning early:
//   - in CI (CI=true) or with ORCHESTRATE_REQUIRE_ALL=1 it FAILS, naming what is missing, so a
//     CI machine that lost a capability turns red instead of quietly testing less;
//   - elsewhere it is registered as skipped (uvu counts it; `npm test` prints the count) and the
//     reason is printed once per suite.
// Checks run at module load (top-level await), because uvu decides skip-or-run when a test is
// registered, not while it runs.
import { spawnSync } from 'node:child_process';
import type { Test } from 'uvu';

export type Check = () => string | null | undefined | Promise<string | null | undefined>;

/** Whether a missing requirement fails the test (CI) or skips it (a developer's machine). */
export function requirementsAreMandatory(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['CI'] === 'true' || env['CI'] === '1' || env['ORCHESTRATE_REQUIRE_ALL'] === '1';
}

/** Runs the checks in order; the first one that answers a reason is what is missing. */
export async function missingRequirement(...checks: Check[]): Promise<string | null> {
  for (const check of checks) {
    const reason = await check();
    if (reason) return reason;
  }
  return null;
}

export const needsRoot: Check = () => (process.getuid?.() === 0 ? null : 'needs root');

/** The first of these commands that is not on PATH (sbin directories included), as a reason. */
export function commandsMissing(...names: string[]): string | null {
  const r = spawnSync('sh', ['-c', 'for c in "$@"; do command -v "$c" >/dev/null || { echo "$c"; exit 1; }; done', 'sh', ...names], {
    encoding: 'utf8',
    env: { PATH: `${process.env['PATH'] ?? ''}:/usr/local/sbin:/usr/sbin:/sbin` },
  });
  return r.status === 0 ? null : `${r.stdout.trim()} not installed (bash test/install-deps.sh)`;
}

type TestFn = Parameters<Test>[1];

/**
 * A suite's test registrar that honours a missing requirement: `missing === null` registers tests
 * as usual; otherwise every test is skipped (counted) or, when requirements are mandatory, fails
 * with the reason.
 */
export function guardedSuite<C = Record<string, unknown>>(suite: Test<C>, missing: string | null, name = 'these tests'): (title: string, fn: TestFn) => void {
  if (missing === null) return (title, fn) => suite(title, fn as never);
  if (requirementsAreMandatory()) {
    return (title) =>
      suite(title, () => {
        throw new Error(`requirement not met: ${missing} (a required test cannot be skipped in CI)`);
      });
  }
  console.log(`  skipped ${name}: ${missing}`);
  return (title, fn) => suite.skip(title, fn as never);
}
