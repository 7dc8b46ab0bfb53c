// Profile files of the midolman scenario, resolved on the orchestrator from the inventory's
// profiles_dir (so a profile follows profiles_dir wherever it points) and sent to the host as
// environment: perftests.conf and jmx-mbeans-<set>.conf, each from the host's profile directory,
// else from default/ (file by file). The host-side profile phase parses them (never executes),
// applies the inventory's overrides and records where every value came from.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILE_KNOBS, type ProfileKnob, type ProfileValues } from './params.js';

export interface ProfileFile {
  /** 'NAME/FILE' as found, or '' when neither the profile nor default/ has it. */
  from: string;
  content: string;
}

export function resolveProfileFile(profilesDir: string, profile: string, file: string): ProfileFile {
  for (const dir of profile === 'default' ? ['default'] : [profile, 'default']) {
    try {
      return { from: `${dir}/${file}`, content: readFileSync(join(profilesDir, dir, file), 'utf8') };
    } catch {
      // not there: fall back
    }
  }
  return { from: '', content: '' };
}

/** The same parse as the helper's: KEY=VALUE lines of known knobs, whole numbers. */
export function parsePerftestsConf(content: string): Partial<ProfileValues> {
  const out: Partial<ProfileValues> = {};
  for (const raw of content.split('\n')) {
    const line = raw.replace(/#.*$/, '').replace(/^\s*export\s+/, '');
    const m = /^\s*([A-Z_][A-Z0-9_]*)=["']?([0-9]+)["']?\s*$/.exec(line);
    if (m && m[1]! in PROFILE_KNOBS) out[m[1] as ProfileKnob] = Number(m[2]);
  }
  return out;
}

export function effectiveProfile(conf: string, overrides: Partial<ProfileValues> | undefined): ProfileValues {
  return { ...PROFILE_KNOBS, ...parsePerftestsConf(conf), ...(overrides ?? {}) } as ProfileValues;
}
