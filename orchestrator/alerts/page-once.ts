// Page once: a regression is paged (exit status 3, the Atom feed, the alerts) by the first sweep
// that confirms it and never again. The record is `<results_dir>/alerts/paged.json`
// (PagedStateSchema): changeId -> the sweep that paged it. It lives in the results store, apart
// from the site, so site rebuilds and --resume keep it. Each sweep's findings.json is the
// evidence; should paged.json be lost or damaged, it is rebuilt from the findings (every
// candidate a sweep says it paged), so a lost file never pages a change a second time.
import { rename } from 'node:fs/promises';
import { changeId, type Change, type Findings, type PagedState } from '../analysis/findings.js';
import { sameChange as sameDetectedChange } from '../analysis/regressions.js';
export { SAME_CHANGE_SWEEPS } from '../analysis/regressions.js';
import { emptyPagedState, listSweeps, pagedStatePath, readFindings, readPagedState, StoreReadError } from '../results/store.js';

/** A change as far as identity goes: its series and the first sweep of its regime. */
export interface ChangeRef {
  keyId: string;
  sweepId: string;
}

/**
 * Whether two detections are the same change: the same series, and regime starts close enough
 * in the series' own sweeps (`sweepsOfSeries`: the sweeps the series has points in, sorted), as
 * analysis/regressions.ts sameChange decides (within SAME_CHANGE_SWEEPS). Detection may move a
 * regime's start by a point or two as nights are added; this keeps such a change one change.
 * Without the series' sweeps, only the same start counts. Every page-once decision goes through
 * here.
 */
export function sameChange(a: ChangeRef, b: ChangeRef, sweepsOfSeries?: readonly string[]): boolean {
  if (!sweepsOfSeries) return a.keyId === b.keyId && a.sweepId === b.sweepId;
  return sameDetectedChange(a, b, sweepsOfSeries);
}

export interface PagedEntry extends ChangeRef {
  /** The changeId it was paged under. */
  id: string;
  /** The sweep that paged it. */
  pagedBy: string;
  pagedAt: string;
}

/** The entries of a paging record (a changeId is `<keyId>@<sweepId>`). */
export function pagedEntries(state: PagedState): PagedEntry[] {
  return Object.entries(state.paged).flatMap(([id, { sweepId: pagedBy, at }]) => {
    const cut = id.lastIndexOf('@');
    if (cut <= 0) return [];
    return [{ id, keyId: id.slice(0, cut), sweepId: id.slice(cut + 1), pagedBy, pagedAt: at }];
  });
}

/** The entry under which `change` was paged, if it was (the same change by sameChange). */
export function findPaged(entries: readonly PagedEntry[], change: ChangeRef, sweepsOfSeries?: readonly string[]): PagedEntry | undefined {
  return entries.find((entry) => entry.id === changeId(change)) ?? entries.find((entry) => sameChange(entry, change, sweepsOfSeries));
}

/** The record with `change` paged by `sweepId` (a new object). */
export function withPaged(state: PagedState, change: Pick<Change, 'keyId' | 'sweepId'>, sweepId: string, at: string): PagedState {
  return { ...state, paged: { ...state.paged, [changeId(change)]: { sweepId, at } } };
}

/** A paging record from the findings of every sweep: each candidate a sweep paged. */
export function pagedStateFromFindings(findings: readonly Findings[]): PagedState {
  let state = emptyPagedState();
  for (const sweep of [...findings].sort((a, b) => (a.sweepId < b.sweepId ? -1 : a.sweepId > b.sweepId ? 1 : 0))) {
    for (const candidate of sweep.candidates) {
      if (candidate.paged && !(changeId(candidate.change) in state.paged)) state = withPaged(state, candidate.change, sweep.sweepId, sweep.at);
    }
  }
  return state;
}

export interface LoadedPagedState {
  state: PagedState;
  /** Set when the record was missing or damaged and was rebuilt from the findings files. */
  rebuilt?: string;
}

/**
 * The paging record of a results store. Missing while some sweep has findings, or damaged: rebuilt
 * from the findings (a damaged file is kept beside it as paged.json.damaged-<time>); the caller
 * writes the rebuilt record back with the sweep's own pages.
 */
export async function loadPagedState(resultsDir: string): Promise<LoadedPagedState> {
  let damaged: string | undefined;
  try {
    const state = await readPagedState(resultsDir);
    if (state) return { state };
  } catch (error) {
    if (!(error instanceof StoreReadError)) throw error;
    damaged = error.message;
    const aside = `${pagedStatePath(resultsDir)}.damaged-${new Date().toISOString().replace(/[:.]/g, '')}`;
    await rename(pagedStatePath(resultsDir), aside).catch(() => undefined);
  }
  const findings: Findings[] = [];
  for (const sweepId of await listSweeps(resultsDir)) {
    try {
      const found = await readFindings(resultsDir, sweepId);
      if (found) findings.push(found);
    } catch {
      // a damaged findings file pages nothing; the sweep's own report says so
    }
  }
  if (findings.length === 0 && damaged === undefined) return { state: emptyPagedState() };
  const state = pagedStateFromFindings(findings);
  const how = `rebuilt from the findings of ${findings.length} sweep(s): ${Object.keys(state.paged).length} change(s) paged before`;
  return { state, rebuilt: damaged === undefined ? `${pagedStatePath(resultsDir)} was missing; ${how}` : `${damaged}; set aside and ${how}` };
}
