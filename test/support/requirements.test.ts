import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { missingRequirement, requirementsAreMandatory } from './requirements.js';

const t = suite('test requirements');

t('CI=true or ORCHESTRATE_REQUIRE_ALL=1 make every requirement mandatory; otherwise a missing one skips', () => {
  assert.ok(requirementsAreMandatory({ CI: 'true' }));
  assert.ok(requirementsAreMandatory({ CI: '1' }));
  assert.ok(requirementsAreMandatory({ ORCHESTRATE_REQUIRE_ALL: '1' }));
  assert.not.ok(requirementsAreMandatory({}));
  assert.not.ok(requirementsAreMandatory({ CI: 'false' }));
});

t('the first check that answers a reason is what is missing; later checks do not run', async () => {
  let ranThird = false;
  const reason = await missingRequirement(
    () => null,
    async () => 'no libvirtd',
    () => {
      ranThird = true;
      return 'not reached';
    },
  );
  assert.is(reason, 'no libvirtd');
  assert.not.ok(ranThird);
  assert.is(await missingRequirement(() => undefined, async () => null), null);
});

t.run();
