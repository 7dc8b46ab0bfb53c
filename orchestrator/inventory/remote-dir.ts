// remote_dir: the directory on a host where the orchestrator keeps its bundles, job state,
// pushed files and cache (bundles/, jobs/, files/, cache/ inside it; remote/layout.ts) and
// where it deletes old ones of its own. So it must be a directory of its own:
//
// - relative (to the login directory; a leading ~/ means the same): it must stay inside the
//   login directory (no `..` leading out of it) and not be the login directory itself;
// - absolute: not /, not in or under a system tree (/etc, /usr, /bin, /sbin, /lib*, /boot,
//   /dev, /proc, /sys, /run), not /var or a directory just below it (/var/lib, /var/tmp...) nor
//   anything under /var/run or /var/lock, not a top-level directory itself (/tmp, /opt, /srv,
//   /home, /root...) and not a home directory itself (/home/<user>): /tmp/x, /opt/x, /srv/x,
//   /home/<user>/x, /var/tmp/x and /var/lib/x are fine.
//
// The check is on the path as written (`..` resolved); what a symbolic link on the host
// points at cannot be known before connecting.

import { posix } from 'node:path';
import { hasControl } from './display.js';

export interface RemoteDirProblem {
  /** Follows the quoted value: "'/etc' is inside the system directory /etc". */
  message: string;
  expected: string;
}

export const REMOTE_DIR_EXPECTED =
  'a directory of its own: relative to the login directory and inside it (such as .orchestrate), or an absolute path outside the system directories (such as /var/tmp/orchestrate or /srv/perf)';

/** Trees that belong to the system: nothing of the orchestrator's goes in or under them. */
const SYSTEM_TREES: ReadonlySet<string> = new Set(['bin', 'boot', 'dev', 'etc', 'lib', 'lib32', 'lib64', 'libx32', 'proc', 'run', 'sbin', 'sys', 'usr']);

/** Why `value` cannot be a remote_dir, or undefined when it can. */
export function remoteDirProblem(value: string): RemoteDirProblem | undefined {
  const problem = (message: string): RemoteDirProblem => ({ message, expected: REMOTE_DIR_EXPECTED });
  if (value.trim() === '') return problem('is empty');
  if (hasControl(value)) return problem('has control characters');
  if (value !== value.trim()) return problem('starts or ends with spaces');
  if (value.startsWith('~') && !/^~(\/|$)/.test(value)) return problem('starts with ~user, which is not expanded on the host');

  if (value.startsWith('/')) {
    const parts = posix.normalize(value).split('/').filter((part) => part !== '');
    const top = parts[0];
    if (top === undefined) return problem('is the root directory');
    const shown = `/${parts.join('/')}`;
    if (SYSTEM_TREES.has(top)) return problem(parts.length === 1 ? 'is a system directory' : `is inside the system directory /${top}`);
    if (top === 'var' && (parts[1] === 'run' || parts[1] === 'lock')) return problem(`is inside the system directory /var/${parts[1]}`);
    if (top === 'var' && parts.length < 3) return problem(`is the system directory ${shown} itself; use a directory inside it`);
    if (top === 'home' && parts.length === 2) return problem(`is the home directory ${shown} itself; use a directory inside it`);
    if (parts.length === 1) return problem(`is the top-level directory ${shown} itself; use a directory inside it`);
    return undefined;
  }

  const relative = value.replace(/^~\/?/, '');
  const normalized = posix.normalize(relative === '' ? '.' : relative);
  if (normalized === '..' || normalized.startsWith('../')) return problem('leads out of the login directory (through ..)');
  if (normalized === '.') {
    return problem('is the login directory itself, where bundles/, jobs/, files/ and cache/ would be kept and pruned; use a directory inside it');
  }
  return undefined;
}
