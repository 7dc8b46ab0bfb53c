// The shell the reports host runs for publishing and drop-off, as command values.
//
// The scripts are files, shellchecked with the other helpers (test/shellcheck.sh):
// remote-scripts/publish/lib/releases.sh (list, publish, rollback) and .../drop-off.sh. Each is a
// library of functions; a call sends the library's text plus one call line as
// `sh -c TEXT NAME ARGS...`, the arguments quoted by the command value. They do not travel like
// the helper bundle (pushed once per content hash, remote/push-bundle.ts) because the reports
// host need not be a fleet host: it may have no bash (the bundle's installer needs it), and a
// publish is one session anyway, whose upload dwarfs these few KiB. The files are read at run
// time from the package (package-root.ts), as the helper bundle's sources are: from the sources
// under tsx and from the compiled dist/ alike.
import { readFile } from 'node:fs/promises';
import { command, type Part, type ShellCommand } from '../connectors/shell-command.js';
import { packagePath } from '../package-root.js';
import { PublishError } from './reports-host.js';

/** Release ids: r<6-digit sequence>-<UTC time>; the sequence orders them (releases.sh RELEASE_GLOB). */
export const RELEASE_ID = /^r[0-9]{6}-[0-9]{8}T[0-9]{6}Z$/;

/** Each call: its library under remote-scripts/publish/lib/, its function, and its name ($0) on the host. */
const CALLS = {
  list: { library: 'releases.sh', fn: 'releases_list', name: 'orchestrate-publish-list' },
  publish: { library: 'releases.sh', fn: 'releases_publish', name: 'orchestrate-publish' },
  rollback: { library: 'releases.sh', fn: 'releases_rollback', name: 'orchestrate-rollback' },
  dropOff: { library: 'drop-off.sh', fn: 'drop_off', name: 'orchestrate-drop-off' },
} as const;
type HostCall = keyof typeof CALLS;

const libraries = new Map<string, Promise<string>>();

function library(file: string): Promise<string> {
  let text = libraries.get(file);
  if (!text) {
    const path = packagePath('remote-scripts', 'publish', 'lib', file);
    text = readFile(path, 'utf8').catch((error: unknown) => {
      libraries.delete(file);
      throw new PublishError(`cannot read the reports host script ${path} (is the package complete?): ${(error as Error).message}`);
    });
    libraries.set(file, text);
  }
  return text;
}

/** The script text of a call: the library, then its function called with the script's arguments. */
export async function hostScript(call: HostCall): Promise<{ name: string; text: string }> {
  const { library: file, fn, name } = CALLS[call];
  return { name, text: `${await library(file)}\n${fn} "$@"\n` };
}

/** `sh -c TEXT NAME ARGS...` for a call. */
export async function hostCommand(call: HostCall, args: Part[]): Promise<ShellCommand> {
  const { name, text } = await hostScript(call);
  return command(['sh', '-c', text, name, ...args]);
}
