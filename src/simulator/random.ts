// Seeded pseudo-random numbers, so that a simulated device behaves the same on every run with the
// same seed and clock (tests compare a frozen simulator with an in-process twin).

/** FNV-1a hash of a string: a stable 32-bit seed per device id. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Generator of uniform numbers in [0, 1) (mulberry32). */
export type Random = () => number;

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Roughly normal noise with standard deviation `sigma` (sum of three uniforms). */
export function noise(random: Random, sigma: number): number {
  return (random() + random() + random() - 1.5) * 2 * sigma;
}
