// The p-values of permutation tests already run (e-divisive.ts), by what a test's p-value is a
// function of: the tested segment's values (their 64-bit digest, segment-hash.ts, which also
// seeds the test's shuffles), the split whose Q is tested, and the test's settings (permutations,
// alpha, for the early stop, and the history-level seed). A new night adds a point to most
// histories, but every window that does not reach it holds the same values as the night before:
// its tests are answered from here instead of being run again.
//
// One memo serves the whole process by default (a sweep's findings, its site build and the
// build's glance detect changes in the same histories several times); a site build also keeps
// the tests it used beside the site (permutation-memo-file.ts) for the next night's build.
// Rounds say which entries a build used, so that only those are kept: the memo does not grow
// with every segment a history ever had.

/** A p-value as the test gave it: (tests at least as extreme + 1) / (permutations done + 1). */
export interface PermutationOutcome {
  /** At least as extreme, plus one: 1..of. */
  hits: number;
  /** Permutations done (fewer than asked when the test stopped early), plus one. */
  of: number;
}

export interface MemoEntry extends PermutationOutcome {
  /** The segment's digest, high and low lanes. */
  high: number;
  low: number;
  /** The tested split, relative to the segment's first point. */
  split: number;
  /** The last round it was used in (-1: loaded, not used yet). */
  round: number;
}

/** Past this many entries, those the current round has not used are dropped (then, if need be, all). */
export const MEMO_CAPACITY = 200_000;

export class PermutationMemo {
  /** Per scope (permutationScope), per test key (high:low:split). */
  private readonly scopes = new Map<string, Map<string, MemoEntry>>();
  private entries = 0;
  private currentRound = 0;
  /** Permutation tests run through this memo (a miss) and answered by it (a hit). */
  computed = 0;
  reused = 0;

  constructor(private readonly capacity = MEMO_CAPACITY) {}

  get size(): number {
    return this.entries;
  }

  /** The p-value of a test run before, counting it used in this round; undefined: run it. */
  lookup(scope: string, high: number, low: number, split: number): number | undefined {
    const entry = this.scopes.get(scope)?.get(testKey(high, low, split));
    if (entry === undefined) return undefined;
    entry.round = this.currentRound;
    this.reused++;
    return entry.hits / entry.of;
  }

  /** A test just run (used in this round). */
  remember(scope: string, high: number, low: number, split: number, outcome: PermutationOutcome): void {
    this.computed++;
    this.put(scope, { high, low, split, hits: outcome.hits, of: outcome.of, round: this.currentRound });
  }

  /** An entry read from a file: known, not used until a test looks it up. Kept entries win. */
  preload(scope: string, high: number, low: number, split: number, outcome: PermutationOutcome): void {
    if (this.scopes.get(scope)?.has(testKey(high, low, split))) return;
    this.put(scope, { high, low, split, hits: outcome.hits, of: outcome.of, round: -1 });
  }

  /** Starts a round: what is looked up or remembered from now on is `usedSince` the number returned. */
  beginRound(): number {
    return ++this.currentRound;
  }

  /** The entries looked up or remembered since `round` began, by scope. */
  usedSince(round: number): Map<string, MemoEntry[]> {
    const used = new Map<string, MemoEntry[]>();
    for (const [scope, entries] of this.scopes) {
      const list: MemoEntry[] = [];
      for (const entry of entries.values()) if (entry.round >= round) list.push(entry);
      if (list.length > 0) used.set(scope, list);
    }
    return used;
  }

  clear(): void {
    this.scopes.clear();
    this.entries = 0;
  }

  private put(scope: string, entry: MemoEntry): void {
    if (this.entries >= this.capacity) this.evict();
    let entries = this.scopes.get(scope);
    if (!entries) this.scopes.set(scope, (entries = new Map()));
    const key = testKey(entry.high, entry.low, entry.split);
    if (!entries.has(key)) this.entries++;
    entries.set(key, entry);
  }

  /** Drops what the current round has not used; everything, when that is not enough. */
  private evict(): void {
    for (const [scope, entries] of this.scopes) {
      for (const [key, entry] of entries) {
        if (entry.round >= this.currentRound) continue;
        entries.delete(key);
        this.entries--;
      }
      if (entries.size === 0) this.scopes.delete(scope);
    }
    if (this.entries >= this.capacity) this.clear();
  }
}

function testKey(high: number, low: number, split: number): string {
  return `${high}:${low}:${split}`;
}

/**
 * The settings a test's p-value depends on besides its segment and split, and the series it was
 * run for (`series`: a history's key id, lower-case hex; none for values of no series). A test
 * is looked up only within its series: a digest (segment-hash.ts) is not collision-resistant, and
 * a host chooses its own metrics' values, so values crafted to collide could otherwise lend
 * another host's series their p-value. Within one series the values are that host's anyway.
 */
export function permutationScope(permutations: number, alpha: number, seed: number, series?: string): string {
  if (series !== undefined && !/^[0-9a-f]{1,64}$/.test(series)) throw new RangeError(`permutationScope: series ${JSON.stringify(series)} is not a key id`);
  return `${permutations}/${alpha}/${seed >>> 0}${series === undefined ? '' : `/${series}`}`;
}

/** Parses a scope back (a file's); undefined when it is not one. */
export function parseScope(scope: string): { permutations: number; alpha: number; seed: number; series?: string } | undefined {
  const match = /^(\d+)\/([^/]+)\/(\d+)(?:\/([0-9a-f]{1,64}))?$/.exec(scope);
  if (!match) return undefined;
  const permutations = Number(match[1]);
  const alpha = Number(match[2]);
  const seed = Number(match[3]);
  const series = match[4];
  if (!Number.isSafeInteger(permutations) || permutations < 1 || !Number.isFinite(alpha) || !(seed <= 0xffffffff)) return undefined;
  if (permutationScope(permutations, alpha, seed, series) !== scope) return undefined;
  return { permutations, alpha, seed, ...(series === undefined ? {} : { series }) };
}

/** The memo detection uses when given none: one per process. */
export const processPermutationMemo = new PermutationMemo();
