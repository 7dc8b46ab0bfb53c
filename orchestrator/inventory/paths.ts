// File paths written in an inventory: "~" is the user's home directory ($HOME), and relative
// paths are relative to the directory of the inventory file.

import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export function homeDirectory(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

/** "~" and "~/x" expanded; other paths unchanged. */
export function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path === '~') return homeDirectory(env);
  if (path.startsWith('~/')) return join(homeDirectory(env), path.slice(2));
  return path;
}

/** An absolute path: "~" expanded, then resolved against `baseDir`. */
export function resolvePath(baseDir: string, path: string, env: NodeJS.ProcessEnv): string {
  const expanded = expandHome(path, env);
  return isAbsolute(expanded) ? resolve(expanded) : resolve(baseDir, expanded);
}
