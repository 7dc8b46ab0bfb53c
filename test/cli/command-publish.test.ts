// orchestrate publish's --keep help states publish-site's default without importing it at start
// (that would load SSH for every command): the two numbers must agree.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HELP_DEFAULT_KEEP } from '../../orchestrator/cli/command-publish.js';
import { DEFAULT_KEEP } from '../../orchestrator/publish/publish-site.js';

test("--keep's help shows publish-site's DEFAULT_KEEP", () => {
  assert.is(HELP_DEFAULT_KEEP, DEFAULT_KEEP);
});

test.run();
