// `node --import ./register.mjs ...`: records the URL of every module the process resolves
// (ES module imports, including `await import()`, and what they resolve to) into the file named
// by MODULE_TRACE_FILE, one per line. Used by test/cli/compiled-bin.test.ts and the cli-start
// benchmark to see which modules a command loads. Node 20's module.register runs the hooks in
// a separate thread; they append to the file synchronously, so nothing is lost at exit.
import { register } from 'node:module';

const file = process.env.MODULE_TRACE_FILE;
if (!file) throw new Error('module-trace: set MODULE_TRACE_FILE to the file to write');
register(new URL('./hooks.mjs', import.meta.url), { data: { file } });
