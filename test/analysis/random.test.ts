// The seeded shuffles: the permutation test's p-values depend on the exact draws, so shuffling a
// value together with what belongs to it must permute the values exactly as the plain shuffle does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mulberry32, shuffleInPlace } from '../../orchestrator/analysis/random.js';

test('shuffling together permutes the values exactly as the plain shuffle with the same seed, and each companion follows its value', () => {
  for (const length of [1, 2, 7, 30, 61]) {
    const values = Float64Array.from({ length }, (_, i) => i * 1.5 + 0.25);
    const plain = values.slice();
    shuffleInPlace(plain, mulberry32(42 + length));
    const together = values.slice();
    const along = Float64Array.from(values, (v) => v * 10);
    shuffleInPlace(together, mulberry32(42 + length), along);
    assert.equal([...together], [...plain], `length ${length}: the same permutation`);
    assert.equal([...along], [...together].map((v) => v * 10), `length ${length}: companions stay with their values`);
    if (length > 2) assert.is.not([...plain].join(), [...values].join(), `length ${length}: it did shuffle`);
  }
});

test.run();
