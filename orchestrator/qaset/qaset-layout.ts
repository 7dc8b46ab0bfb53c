// The names QASET and ctcs2 give things, from QASET's sources (qavm/sq-global.sh, sq-result.sh):
//   /var/log/qaset/{control,runs,calls,log,set,submission,lock.d}   QASET's own tree
//   log/<case>-ACAP2[-<RUN_ID>][-<comment>]-<%Y%m%dT%H%M%S>.tar.bz2  a tar of /var/log/qa/ctcs2/*
//   log/<case>-<%Y%m%dT%H%M%S>.tar.bz2                                (SQ_TEST_USER_APAC2=YES)
//   /var/log/qa/ctcs2/<tcf>-<YYYY-MM-DD-HH-MM-SS>/                    one ctcs2 result directory:
//       test_results, done, one raw output file per test, and the system-information files
//       QASET writes into it before packing (sq_qadb_update_system_infomation/_shortinfo)
//   /var/log/qa/oldlogs/...                                           results moved after submission

/** Directories of /var/log/qaset that hold QASET's bookkeeping, not benchmark output. */
export const QASET_BOOKKEEPING_DIRS: ReadonlySet<string> = new Set(['control', 'runs', 'calls', 'submission', 'set', 'lock.d']);

/** The system-information files QASET writes into every ctcs2 result directory. */
export const QASET_SYSINFO_FILES: ReadonlySet<string> = new Set([
  'syslog-journalctl.txt',
  'installed-pattern.txt',
  'lsscsi.txt',
  'lspci-k.txt',
  'lsmod.txt',
  'lscpu.txt',
  'cpu-frequency-info.txt',
  'partition-mount.txt',
  'cmdline.txt',
  'meminfo.txt',
  'zoneinfo.txt',
  'systemctl-list-units.txt',
  'tenv.txt',
  'messages.shortlog',
]);

/** ctcs2's own run metadata in a result directory (and what qa_db_report adds beside it). */
export const CTCS2_METADATA_FILES: ReadonlySet<string> = new Set(['done', 'environment', 'rpmlist', 'hwinfo', 'kernel', 'uname.txt']);

/** A ctcs2 result directory's name: the tcf's name and the time it started. */
const TCF_DIR = /^(.+)-(\d{4})-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$/;

export function isTcfDirName(name: string): boolean {
  return TCF_DIR.test(name);
}

/** "qa_sysbench-2026-11-30-23-58-00" -> "qa_sysbench"; other names unchanged. */
export function tcfBaseName(name: string): string {
  return TCF_DIR.exec(name)?.[1] ?? name;
}

export interface TarballName {
  /** The QASET case the tarball holds the results of (e.g. bonniepp_async_xfs). */
  case: string;
  /** SQ_TEST_RUN_ID as QASET put it into the name; null when the name has none. */
  runId: string | null;
  /** The packing time, "YYYYMMDDTHHMMSS" (guest local time). */
  stamp: string;
}

/** Reads a QASET log tarball's name; null when the name is not one QASET gives. */
export function parseTarballName(name: string): TarballName | null {
  const m = /^(.+)-(\d{8}T\d{6})\.(?:tar\.bz2|tbz2?|tar\.gz|tgz|tar)$/i.exec(name);
  if (!m) return null;
  const stem = m[1]!;
  const stamp = m[2]!;
  const acap = stem.indexOf('-ACAP2');
  if (acap === -1) return /^[A-Za-z0-9_][A-Za-z0-9_.+]*$/.test(stem) ? { case: stem, runId: null, stamp } : null;
  const rest = stem.slice(acap + '-ACAP2'.length);
  if (rest !== '' && !rest.startsWith('-')) return null;
  const runId = rest.split('-')[1];
  return { case: stem.slice(0, acap), runId: runId === undefined || runId === '' ? null : runId, stamp };
}
