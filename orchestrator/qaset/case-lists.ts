// QASET's case lists in /root/qaset (its "user configuration" directory, qavm/sq-global.sh):
//   list         bash: SQ_TEST_RUN_LIST=( _reboot_off bonniepp_async_xfs sysbench_sys ... )
//   list.failed  one line per failed case, appended by sq_control_get_run_status as
//                `echo "$(date %Y%m%dT%H%M%S) ${_run}"`. The format lacks its '+', so date(1)
//                fails, prints nothing on stdout, and the line is " <case>" (an empty date, a
//                space, the case). A fixed QASET would write "20261122T061000 <case>": both are
//                read, the time when there is one.
// Both come from a guest: every name is checked against what a QASET case name can be.
import * as z from 'zod';

/** A QASET run-list entry: a case (bonniepp_async_xfs) or a special form (_reboot_off). */
export const CaseNameSchema = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.+:-]{0,199}$/, 'not a QASET case name');

export const FailedCaseSchema = z.object({
  case: CaseNameSchema,
  /** When it failed, "YYYY-MM-DDTHH:MM:SS" (guest local time); null when QASET wrote no time (the usual). */
  at: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/).nullable(),
  /** 1-based line in list.failed. */
  line: z.number().int().positive(),
});
export type FailedCase = z.infer<typeof FailedCaseSchema>;

export interface ListProblem {
  line: number;
  /** The offending text, at most 120 characters. */
  text: string;
  reason: string;
}

function lineProblem(line: number, text: string, reason: string): ListProblem {
  return { line, text: text.slice(0, 120), reason };
}

/** Parses /root/qaset/list.failed. Lines that are not "[<stamp>] <case>" are returned as problems. */
export function parseListFailed(text: string): { failed: FailedCase[]; problems: ListProblem[] } {
  const failed: FailedCase[] = [];
  const problems: ListProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    const m = /^(?:(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d))?\s*(\S+)\s*$/.exec(raw);
    const parsed = m
      ? FailedCaseSchema.safeParse({ case: m[7], at: m[1] === undefined ? null : `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`, line: i + 1 })
      : null;
    if (parsed?.success) failed.push(parsed.data);
    else problems.push(lineProblem(i + 1, raw, 'not "[YYYYMMDDTHHMMSS] <case>"'));
  });
  return { failed, problems };
}

/** Words of a bash array body: whitespace-separated, '...' and "..." quotes removed, # comments dropped. */
function arrayWords(body: string): { word: string; line: number }[] {
  const out: { word: string; line: number }[] = [];
  let line = 1;
  let word: string | null = null;
  let wordLine = 1;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\n') line++;
    if (quote) {
      if (c === quote) quote = null;
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      if (word === null) [word, wordLine] = ['', line];
      continue;
    }
    if (c === '#' && word === null) {
      while (i + 1 < body.length && body[i + 1] !== '\n') i++;
      continue;
    }
    if (/\s/.test(c)) {
      if (word !== null) out.push({ word, line: wordLine });
      word = null;
      continue;
    }
    if (word === null) [word, wordLine] = ['', line];
    word += c;
  }
  if (word !== null) out.push({ word, line: wordLine });
  return out;
}

/**
 * Parses /root/qaset/list: the entries of the last `SQ_TEST_RUN_LIST=( ... )` assignment (later
 * `SQ_TEST_RUN_LIST+=( ... )` append, as in bash). null when the file assigns no run list.
 */
export function parseRunList(text: string): { cases: string[]; problems: ListProblem[] } | null {
  const assign = /^\s*(?:export\s+)?SQ_TEST_RUN_LIST(\+?)=\(/gm;
  let cases: string[] | null = null;
  const problems: ListProblem[] = [];
  for (const m of text.matchAll(assign)) {
    const start = m.index! + m[0].length;
    const end = text.indexOf(')', start);
    const startLine = text.slice(0, start).split('\n').length;
    if (end === -1) {
      problems.push(lineProblem(startLine, m[0].trim(), 'SQ_TEST_RUN_LIST=( without its closing parenthesis'));
      continue;
    }
    const entries: string[] = [];
    for (const { word, line } of arrayWords(text.slice(start, end))) {
      if (CaseNameSchema.safeParse(word).success) entries.push(word);
      else problems.push(lineProblem(startLine + line - 1, word, 'not a QASET case name'));
    }
    cases = m[1] === '+' && cases !== null ? [...cases, ...entries] : entries;
  }
  return cases === null ? (problems.length > 0 ? { cases: [], problems } : null) : { cases, problems };
}
