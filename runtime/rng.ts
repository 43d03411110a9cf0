// The seeded random generator behind initialisation, shuffling and dropout: xoshiro128**.
import { describeValue } from "./arguments.js";
import { NetcError } from "./errors.js";

const TWO_POW_32 = 4294967296;

/** A generator's position, as plain JSON data (`Rng.save`). */
export interface RngState {
  words: number[];
  spare: number | null;
}

/** splitmix32's finalizer: a bijection on 32-bit words that spreads every input bit. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/**
 * xoshiro128** (Blackman and Vigna): 128 bits of state, period 2^128 − 1, passes BigCrush.
 * Only 32-bit integer arithmetic (`Math.imul`, shifts, `>>> 0`), so the integer stream, `next`,
 * `uniform` and `int` are bit-identical on every platform and JavaScript engine. `normal` goes
 * through `Math.log`, `Math.cos` and `Math.sin`, which ECMAScript lets engines approximate:
 * exact within one engine (V8 computes them with the same fdlibm code everywhere), possibly an
 * ulp apart across engines.
 *
 * One user seed feeds several independent streams: `new Rng(seed).fork("init")`,
 * `.fork("shuffle")`, `.fork("dropout")`, so drawing more for one purpose never shifts another.
 */
export class Rng {
  /** The 128-bit state the generator started from: `fork` derives children from it. */
  private key: readonly number[];
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** Box-Muller makes normals in pairs; the second waits here for the next call. */
  private spare: number | undefined;

  /** `seed` is an integer from 0 to 2^32 − 1 (the `seed` of a `train` block, or `--seed`). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_POW_32) {
      throw new NetcError(
        `the seed must be an integer from 0 to 4294967295, got ${describeValue(seed)}`,
      );
    }
    // splitmix32 over consecutive counters: nearby seeds give unrelated states.
    const key: number[] = [];
    for (let i = 1; i <= 4; i++) key.push(mix32((seed + Math.imul(i, 0x9e3779b9)) >>> 0));
    this.key = key;
    this.start(key);
  }

  /**
   * An independent generator named by `stream`, derived from this one's seed (not from its
   * current position: forking is pure, and the same name always gives the same stream). A
   * number names the same stream as its decimal string, so `fork(3)` is `fork("3")`.
   */
  fork(stream: string | number): Rng {
    const name = String(stream);
    // Each of the four state words hashes the name from a different start: a 128-bit key,
    // so two names (parameter names, say) collide with negligible probability.
    const key = this.key.map((word, lane) => {
      let h = word;
      for (let i = 0; i < name.length; i++) h = mix32((h ^ name.charCodeAt(i)) + 0x9e3779b9 + lane);
      return mix32((h ^ name.length) + 0x6a09e667);
    });
    const child = new Rng(0);
    child.key = key;
    child.start(key);
    return child;
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1), with all 53 bits of a double random. */
  next(): number {
    const high = this.uint32() >>> 5; // 27 bits
    const low = this.uint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Uniform between `lo` and `hi`: [lo, hi) up to the rounding of `lo + (hi − lo) · u`. */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A uniform integer in [0, n), 1 ≤ n ≤ 2^32, without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new RangeError(`Rng.int: n must be an integer from 1 to 2^32, got ${n}`);
    }
    // Rejecting the last partial block of n values leaves every residue equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let x = this.uint32();
    while (x >= limit) x = this.uint32();
    return x % n;
  }

  /** A standard normal draw (mean 0, variance 1), by the Box-Muller transform. */
  normal(): number {
    const spare = this.spare;
    if (spare !== undefined) {
      this.spare = undefined;
      return spare;
    }
    const u = 1 - this.next(); // in (0, 1]: the logarithm stays finite
    const angle = 2 * Math.PI * this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /**
   * Where the generator is: its four state words and the normal it holds back, enough for
   * `restore` to go on with the same draws (a checkpoint's dropout stream).
   */
  save(): RngState {
    return { words: [this.s0, this.s1, this.s2, this.s3], spare: this.spare ?? null };
  }

  /** Puts the generator where `save` found it; the state must come from `save`. */
  restore(state: RngState): void {
    const { words, spare } = state;
    const word = (w: unknown) =>
      Number.isInteger(w) && (w as number) >= -(2 ** 31) && (w as number) < TWO_POW_32;
    if (
      !Array.isArray(words) ||
      words.length !== 4 ||
      !words.every(word) ||
      words.every((w) => (w | 0) === 0)
    ) {
      throw new NetcError(
        `a generator's state is four 32-bit words, not all zero; got ${describeValue(words)}`,
      );
    }
    if (spare !== null && !Number.isFinite(spare)) {
      throw new NetcError(
        `a generator's spare normal must be a number or null, got ${describeValue(spare)}`,
      );
    }
    [this.s0, this.s1, this.s2, this.s3] = words.map((w) => w | 0) as [
      number,
      number,
      number,
      number,
    ];
    this.spare = spare ?? undefined;
  }

  private start(key: readonly number[]): void {
    [this.s0, this.s1, this.s2, this.s3] = key as [number, number, number, number];
    // The all-zero state is xoshiro's one fixed point; a hashed key hits it with odds 2^-128.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spare = undefined;
  }
}
