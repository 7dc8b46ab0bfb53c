// The midolman scenario's profile, resolved on the orchestrator from the inventory's profiles_dir
// (so a profile follows profiles_dir wherever it points):
//   - which profile: the host's ProfileChoice (a directory named after the host, else the
//     inventory's profile, else default), and each file of it falling back to default/;
//   - the knobs, one precedence: built-in defaults < the profile's perftests.conf < the host's
//     inventory `vars` < the scenario's `overrides`, each value remembering where it came from;
//   - the agent configuration files the profile carries (midolman/...).
// perftests.conf is parsed, never executed. Bad values are inventory problems, reported with
// their position before anything connects (checkMidolmanHost); unknown knobs are warnings that the
// host's profile phase records.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { closestMatch } from '../../inventory/suggest.js';
import type { HostCheckIssue, HostSpec, ProfileChoice, SourcePosition } from '../../inventory/types.js';
import { PROFILE_KNOBS, type MidolmanParams, type ProfileKnob, type ProfileValues } from './params.js';

export interface ProfileFile {
  /** 'NAME/FILE' as found, or '' when neither the profile nor default/ has it. */
  from: string;
  /** Absolute path of the file read, or '' when none. */
  path: string;
  content: string;
}

export function resolveProfileFile(profilesDir: string, profile: string, file: string): ProfileFile {
  for (const dir of profile === 'default' ? ['default'] : [profile, 'default']) {
    const path = join(profilesDir, dir, file);
    try {
      return { from: `${dir}/${file}`, path, content: readFileSync(path, 'utf8') };
    } catch {
      // not there: fall back
    }
  }
  return { from: '', path: '', content: '' };
}

/** Where a knob's value came from. */
export type KnobSource = 'builtin' | 'profile' | 'vars' | 'overrides';

export interface KnobSetting {
  value: number;
  source: KnobSource;
  /** Where exactly: "gateway-4threads/perftests.conf:3", "lab.yaml:40:9", "scenario params". */
  at: string;
}

export type ResolvedKnobs = Record<ProfileKnob, KnobSetting>;

export interface KnobProblem {
  severity: 'error' | 'warning';
  message: string;
  position: SourcePosition;
  expected?: string;
}

export interface KnobResolution {
  knobs: ResolvedKnobs;
  problems: KnobProblem[];
}

const KNOB_NAMES = Object.keys(PROFILE_KNOBS) as ProfileKnob[];
const WHOLE_NUMBER = /^[0-9]+$/;
const MAX_KNOB = 100_000_000;

/** A name that looks like it was meant to be a knob (the families of perftests.conf). */
function looksLikeKnob(name: string): boolean {
  return /^(THROUGHPUT|WARMUP|LONG_RUNNING)_/.test(name);
}

/** The knob a misspelt name most likely meant: same words in another order, or a close spelling. */
export function knobSuggestion(name: string): ProfileKnob | undefined {
  const words = (n: string) => n.split('_').sort().join('_');
  return KNOB_NAMES.find((k) => words(k) === words(name)) ?? (closestMatch(name, KNOB_NAMES) as ProfileKnob | undefined);
}

function unknownKnob(name: string, where: string): string {
  const guess = knobSuggestion(name);
  return `unknown knob ${name} in ${where}${guess ? `; did you mean ${guess}?` : ''} (ignored)`;
}

function isKnob(name: string): name is ProfileKnob {
  return Object.prototype.hasOwnProperty.call(PROFILE_KNOBS, name);
}

/** The KEY=VALUE lines of perftests.conf (optionally "export KEY=VALUE", values optionally quoted). */
function confLines(content: string): { line: number; column: number; key: string; value: string }[] {
  const out: { line: number; column: number; key: string; value: string }[] = [];
  content.split('\n').forEach((raw, i) => {
    const text = raw.replace(/#.*$/, '');
    if (text.trim() === '') return;
    const m = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)=(["']?)([^"']*)\3\s*$/.exec(text);
    if (!m) {
      out.push({ line: i + 1, column: 1, key: '', value: text.trim() });
      return;
    }
    out.push({ line: i + 1, column: m[1]!.length + 1, key: m[2]!, value: m[4]! });
  });
  return out;
}

/** Range rules the helpers rely on (one probe per destination port; a scan that moves). */
function rangeProblem(knob: ProfileKnob, value: number): string | undefined {
  if (value > MAX_KNOB) return `at most ${MAX_KNOB}`;
  if (knob === 'THROUGHPUT_SCAN_STEP' && value === 0) return 'a positive whole number';
  if ((knob === 'THROUGHPUT_SCAN_BURST' || knob === 'LONG_RUNNING_SCAN_BURST' || knob === 'WARMUP_BURST') && (value < 1 || value > 65535)) {
    return 'a whole number from 1 to 65535 (one probe per destination port)';
  }
  return undefined;
}

export interface KnobInputs {
  conf: ProfileFile;
  vars: Record<string, string>;
  varPositions: Record<string, SourcePosition>;
  overrides?: Partial<ProfileValues> | undefined;
  /** Where the scenario's params were written (the overrides' position). */
  paramsPosition: SourcePosition;
}

/** built-in < perftests.conf < inventory vars < overrides; every problem with its position. */
export function resolveKnobs({ conf, vars, varPositions, overrides, paramsPosition }: KnobInputs): KnobResolution {
  const knobs = Object.fromEntries(
    KNOB_NAMES.map((k) => [k, { value: PROFILE_KNOBS[k], source: 'builtin', at: 'built-in default' } satisfies KnobSetting]),
  ) as ResolvedKnobs;
  const problems: KnobProblem[] = [];
  const set = (knob: ProfileKnob, raw: string, source: KnobSource, at: string, position: SourcePosition): void => {
    if (!WHOLE_NUMBER.test(raw)) {
      problems.push({ severity: 'error', position, message: `${knob} is ${JSON.stringify(raw)} in ${at}`, expected: 'a whole number' });
      return;
    }
    const value = Number(raw);
    const range = rangeProblem(knob, value);
    if (range) {
      problems.push({ severity: 'error', position, message: `${knob} is ${value} in ${at}`, expected: range });
      return;
    }
    knobs[knob] = { value, source, at };
  };

  for (const entry of confLines(conf.content)) {
    const position = { file: conf.path, line: entry.line, column: entry.column };
    const at = `${conf.from}:${entry.line}`;
    if (entry.key === '') {
      problems.push({ severity: 'warning', position, message: `${at}: not a KEY=VALUE line (perftests.conf is parsed, never executed): ${entry.value.slice(0, 80)}` });
    } else if (isKnob(entry.key)) {
      set(entry.key, entry.value, 'profile', at, position);
    } else {
      problems.push({ severity: 'warning', position, message: unknownKnob(entry.key, at) });
    }
  }
  for (const [name, raw] of Object.entries(vars)) {
    const position = varPositions[name] ?? paramsPosition;
    const at = `inventory vars (${position.file}:${position.line}:${position.column})`;
    if (isKnob(name)) set(name, raw, 'vars', at, position);
    else if (looksLikeKnob(name) || knobSuggestion(name)) problems.push({ severity: 'warning', position, message: unknownKnob(name, at) });
  }
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (value === undefined || !isKnob(name)) continue;
    set(name, String(value), 'overrides', `the midolman scenario's overrides (${paramsPosition.file}:${paramsPosition.line})`, paramsPosition);
  }
  return { knobs, problems };
}

export function knobValues(knobs: ResolvedKnobs): ProfileValues {
  return Object.fromEntries(KNOB_NAMES.map((k) => [k, knobs[k].value])) as ProfileValues;
}

/** One sentence saying why this profile (recorded in profile.json). */
export function profileReason(host: Pick<HostSpec, 'name' | 'profile' | 'profileChoice'>): string {
  const choice: ProfileChoice = host.profileChoice;
  const named = choice.inventoryProfile;
  const at = named ? ` (${named.position.file}:${named.position.line}:${named.position.column})` : '';
  switch (choice.reason) {
    case 'host-name':
      return named && named.name !== host.name
        ? `profiles.d/${host.name}/ is named after the host: it wins over the inventory's profile '${named.name}'${at}`
        : `profiles.d/${host.name}/ is named after the host`;
    case 'inventory':
      return `the inventory names profile '${host.profile}'${at}`;
    default:
      return 'no profile directory is named after the host and the inventory names none: default';
  }
}

/**
 * The agent configuration files a profile carries under midolman/ (midolman.conf,
 * midolman-env.sh, logback.xml, ...), each from the chosen profile, else from default/:
 * `path` is where it lives under /etc/midolman on the host (relative), `file` the local file.
 */
export interface ProfileConfigFile {
  path: string;
  file: string;
  from: string;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() || (e.isSymbolicLink() && statSync(full, { throwIfNoEntry: false })?.isFile())) out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out;
}

export function profileConfigFiles(profilesDir: string, profile: string, subdir = 'midolman'): ProfileConfigFile[] {
  const chosen = new Map<string, ProfileConfigFile>();
  for (const dir of profile === 'default' ? ['default'] : ['default', profile]) {
    for (const path of filesUnder(join(profilesDir, dir, subdir))) {
      chosen.set(path, { path, file: join(profilesDir, dir, subdir, path), from: `${dir}/${subdir}/${path}` });
    }
  }
  return [...chosen.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** The midolman scenario's load-time check of a host: knob values that cannot work are inventory errors. */
export function checkMidolmanHost(host: HostSpec, params: MidolmanParams, profilesDir: string): HostCheckIssue[] {
  const request = host.scenarios.find((s) => s.name === 'midolman');
  const { problems } = resolveKnobs({
    conf: resolveProfileFile(profilesDir, host.profile, 'perftests.conf'),
    vars: host.vars,
    varPositions: host.varPositions,
    overrides: params.overrides,
    paramsPosition: request?.position ?? host.position,
  });
  return problems
    .filter((p) => p.severity === 'error')
    .map((p) => ({ position: p.position, message: `midolman: ${p.message}`, ...(p.expected ? { expected: p.expected } : {}) }));
}
