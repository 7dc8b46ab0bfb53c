// remote-scripts/lib/midolman-agent.sh functions, run by real bash under the helpers' own
// `set -euo pipefail`.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const LIB = fileURLToPath(new URL('../../remote-scripts/lib/', import.meta.url));

function bash(script: string): string {
  return execFileSync('bash', ['-c', `set -euo pipefail; for f in common json events midolman-agent; do . "${LIB}$f.sh"; done; ${script}`], { encoding: 'utf8' });
}

test('mm_pkg_version: a package dpkg never heard of is "not installed", not a fatal error under set -e', () => {
  assert.is(bash('v=$(mm_pkg_version orchestrate-no-such-package-x); printf "[%s] still here" "$v"'), '[] still here');
});

test('mm_pkg_version: an installed package gives its version', () => {
  const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'bash'], { encoding: 'utf8' });
  assert.is(bash('mm_pkg_version bash'), `${version}\n`);
});

test("mm_version_matches: the package's version, its upstream part, or a MidoNet nightly's X-SNAPSHOT for X~<timestamp>.<gitrev>", () => {
  const matches = (jar: string, pkg: string) => bash(`mm_version_matches '${jar}' '${pkg}' && echo yes || echo no`).trim();
  assert.is(matches('5.2.1', '5.2.1'), 'yes');
  assert.is(matches('5.2.1', '1:5.2.1-1'), 'yes');
  assert.is(matches('2015.02-SNAPSHOT', '2015.02~201502011200.abc1234'), 'yes', 'midonet build.gradle: debVersion = snapshot with timestamp.gitrev, "-" -> "~"');
  assert.is(matches('2015.02-SNAPSHOT', '2:2015.02~201502011200.abc1234'), 'yes');
  assert.is(matches('2015.03-SNAPSHOT', '2015.02~201502011200.abc1234'), 'no');
  assert.is(matches('5.2.0', '5.2.1'), 'no');
});

test.run();
