// Where a job lives on a host (remote/layout.ts): one directory per sweep x job directly under
// jobs/, so removing a collected job's directory leaves nothing of it on the host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { remoteLayout } from '../../orchestrator/remote/layout.js';
import { SWEEP_ID_PATTERN } from '../../orchestrator/results/store-layout.js';

const layout = remoteLayout('~/.orchestrate');

test('a job directory is one level under jobs/, named by its sweep and its job', () => {
  assert.is(layout.jobDir('20261207T154155Z-b43e', 'lab-01--sysinfo'), '.orchestrate/jobs/20261207T154155Z-b43e_lab-01--sysinfo');
  assert.is(remoteLayout('/var/tmp/perf').jobDir('20261207T154155Z-b43e', 'h--kvm~rerun1'), '/var/tmp/perf/jobs/20261207T154155Z-b43e_h--kvm~rerun1');
});

test('two sweep x job pairs never share a directory (a sweep id holds no _)', () => {
  assert.not.ok(SWEEP_ID_PATTERN.test('20261207T154155Z-b43e_x'), 'a sweep id with a _ would make names ambiguous');
  const pairs: [string, string][] = [
    ['20261207T154155Z-b43e', 'a_b--sysinfo'],
    ['20261207T154155Z-b43e', 'a--sysinfo'],
    ['20261207T154156Z-b43e', 'a_b--sysinfo'],
    ['20261207T154155Z-b43e', 'a--sysinfo~rerun1'],
  ];
  const dirs = pairs.map(([s, j]) => layout.jobDir(s, j));
  assert.is(new Set(dirs).size, dirs.length);
  // the sweep is what comes before the first _
  for (const [i, dir] of dirs.entries()) {
    const name = dir.slice(dir.lastIndexOf('/') + 1);
    assert.equal([name.slice(0, name.indexOf('_')), name.slice(name.indexOf('_') + 1)], pairs[i]);
  }
});

test.run();
