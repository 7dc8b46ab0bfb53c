// Small seeded pseudo-random generators: analysis results must be reproducible run to run.

/** mulberry32: a 32-bit state PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal variates (Box-Muller) from a uniform generator. */
export function gaussian(uniform: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
}

/**
 * Fisher-Yates shuffle in place; `along[i]`, when given, moves wherever `values[i]` goes (the same
 * draws and swaps either way: a value and what belongs to it stay together).
 */
export function shuffleInPlace(values: Float64Array, uniform: () => number, along?: Float64Array): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    const swap = values[i]!;
    values[i] = values[j]!;
    values[j] = swap;
    if (along) {
      const other = along[i]!;
      along[i] = along[j]!;
      along[j] = other;
    }
  }
}
