// "Did you mean ...?": the closest known word to a misspelt one. Cheap even against 20,000
// host names: candidates whose length alone rules them out are skipped, common prefixes and
// suffixes are not compared, and the distance is computed only as far as it can still beat
// the best one found. A Suggester (one per inventory load) also caps the total work, so that
// thousands of misspelt names among thousands of hosts stay cheap: past the cap, messages
// simply come without a suggestion.

/** Words longer than this get no suggestion (nobody misspells a 100-character name). */
const MAX_WORD = 100;

/** Rows of the distance table, reused (one thread, no reentrancy). */
const rowBefore = new Int32Array(MAX_WORD + 2);
const rowPrevious = new Int32Array(MAX_WORD + 2);
const rowCurrent = new Int32Array(MAX_WORD + 2);

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  if (s.length > MAX_WORD || t.length > MAX_WORD) return Math.max(s.length, t.length);
  return boundedDistance(s, t, Number.MAX_SAFE_INTEGER);
}

/**
 * The distance between s and t when it is at most `bound`, else some number above `bound`.
 * Both at most MAX_WORD long. Rows of the table never get smaller, so a row whose minimum is
 * past the bound ends it.
 */
function boundedDistance(s: string, t: string, bound: number): number {
  let start = 0;
  let endS = s.length;
  let endT = t.length;
  // A common prefix and suffix cost nothing and change nothing: leave them out.
  while (start < endS && start < endT && s.charCodeAt(start) === t.charCodeAt(start)) start++;
  while (endS > start && endT > start && s.charCodeAt(endS - 1) === t.charCodeAt(endT - 1)) {
    endS--;
    endT--;
  }
  const n = endS - start;
  const m = endT - start;
  if (Math.abs(n - m) > bound) return bound + 1;
  if (n === 0) return m;
  if (m === 0) return n;
  let before = rowBefore;
  let previous = rowPrevious;
  let current = rowCurrent;
  for (let j = 0; j <= m; j++) previous[j] = j;
  for (let i = 1; i <= n; i++) {
    const si = s.charCodeAt(start + i - 1);
    const siBefore = i > 1 ? s.charCodeAt(start + i - 2) : -1;
    current[0] = i;
    let rowMin = i;
    for (let j = 1; j <= m; j++) {
      const tj = t.charCodeAt(start + j - 1);
      let best = previous[j - 1]! + (si === tj ? 0 : 1);
      const up = previous[j]! + 1;
      if (up < best) best = up;
      const left = current[j - 1]! + 1;
      if (left < best) best = left;
      if (i > 1 && j > 1 && si === t.charCodeAt(start + j - 2) && siBefore === tj) {
        const swap = before[j - 2]! + 1;
        if (swap < best) best = swap;
      }
      current[j] = best;
      if (best < rowMin) rowMin = best;
    }
    if (rowMin > bound) return bound + 1;
    const spare = before;
    before = previous;
    previous = current;
    current = spare;
  }
  return previous[m]!;
}

/**
 * The known word closest to `word`, when it is close enough to be a likely typo
 * (at most a third of the word's length, and at least one edit allowed); the first
 * of equally close words.
 */
export function closestMatch(word: string, known: Iterable<string>, budget?: SuggestionBudget): string | undefined {
  if (word.length > MAX_WORD) return undefined;
  const limit = Math.max(1, Math.floor(word.length / 3));
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    if (candidate === word || candidate.length > MAX_WORD || Math.abs(candidate.length - word.length) >= bestDistance) continue;
    if (budget) {
      if (budget.comparisons <= 0) return undefined;
      budget.comparisons--;
    }
    const distance = boundedDistance(lower, candidate.toLowerCase(), bestDistance - 1);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
      if (distance === 0) break;
    }
  }
  return best;
}

/** "; did you mean 'x'?" or "" */
export function didYouMean(word: string, known: Iterable<string>, budget?: SuggestionBudget): string {
  const match = closestMatch(word, known, budget);
  return match === undefined ? '' : `; did you mean '${match}'?`;
}

/** How many more candidate words may be compared (shared by the suggestions of one load). */
export interface SuggestionBudget {
  comparisons: number;
}

/**
 * The budget of one inventory load: 2,000,000 comparisons, well under a second. A hundred
 * misspelt names among 20,000 hosts fit in it; of thousands, the first ones get suggestions.
 */
export function suggestionBudget(): SuggestionBudget {
  return { comparisons: 2_000_000 };
}
