// Profiles are directories in profiles_dir; "default" is always allowed, even without one.

import { readdirSync } from 'node:fs';
import { didYouMean } from './suggest.js';

export class ProfileSet {
  private constructor(
    readonly dir: string,
    /** Directory names found, or undefined when profiles_dir cannot be read. */
    readonly names: ReadonlySet<string> | undefined,
  ) {}

  static read(dir: string): ProfileSet {
    try {
      const entries = readdirSync(dir, { withFileTypes: true });
      return new ProfileSet(dir, new Set(entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name)));
    } catch {
      return new ProfileSet(dir, undefined);
    }
  }

  get exists(): boolean {
    return this.names !== undefined;
  }

  problemWith(profile: string): { message: string; expected: string } | undefined {
    if (profile === 'default' || this.names?.has(profile)) return undefined;
    if (this.names === undefined) {
      return {
        message: `profile '${profile}' has no directory: profiles_dir ${this.dir} does not exist`,
        expected: `"default", or a directory in ${this.dir}`,
      };
    }
    const all = [...new Set(['default', ...this.names])].sort();
    return {
      message: `profile '${profile}' has no directory in ${this.dir}${didYouMean(profile, all)}`,
      expected: `one of ${all.join(', ')}`,
    };
  }
}
