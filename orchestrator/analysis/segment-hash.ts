// A 64-bit digest of a run of Float64 values (two 32-bit lanes of a murmur3-style mix over the
// values' bit patterns), for naming a permutation test by what it tests: fast enough to take
// once per test (a few hundred words), wide enough that the tests of a whole fleet's histories
// (tens of thousands a night) do not collide. Not a cryptographic digest: nothing hostile
// chooses the values a build hashes, and a collision would only lend one segment another's
// p-value.

/** The digest of x[lo..hi) mixed with `seed`: [high lane, low lane], each an unsigned 32-bit number. */
export function segmentHash(words: Uint32Array, lo: number, hi: number, seed: number): [number, number] {
  // a Float64 value is two 32-bit words of `words` (a view of the same buffer)
  let a = (seed ^ 0x2545f491) >>> 0;
  let b = (Math.imul(seed, 0x9e3779b1) ^ 0x68e31da4) >>> 0;
  for (let w = 2 * lo, end = 2 * hi; w < end; w++) {
    const word = words[w]!;
    let k = Math.imul(word, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    a ^= Math.imul(k, 0x1b873593);
    a = (a << 13) | (a >>> 19);
    a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    let j = Math.imul(word, 0x85ebca6b);
    j = (j << 17) | (j >>> 15);
    b ^= Math.imul(j, 0xc2b2ae35);
    b = (b << 11) | (b >>> 21);
    b = (Math.imul(b, 9) + 0x7feb352d) | 0;
  }
  const length = hi - lo;
  // both lanes see each other and the length before the final avalanche
  return [finalMix(a ^ length ^ Math.imul(b, 0x27d4eb2f)), finalMix(b ^ Math.imul(length, 0x165667b1) ^ a)];
}

/** murmur3's fmix32: every input bit moves every output bit. */
function finalMix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
