// Dropout's masks, counter-based: element i of a layer in a training pass is dropped or kept by a
// hash of (the pass's seed, the layer, i) alone. Any backend and any thread computes any element
// by itself, so the JS and WASM kernels draw the same masks whatever the thread count.
import type { DropoutDraws } from "./api-types.js";
import { describeValue } from "./arguments.js";
import { NetcError } from "./errors.js";
import type { Rng, RngState } from "./rng.js";

/** Draws are 24-bit integers: a draw d stands for the uniform d / 2^24 in [0, 1). */
const DRAW_BITS = 24;

/** splitmix32's finalizer (as in rng.ts): the WASM kernel computes the same three steps. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** The odd constant the element index is scaled by before mixing (2^32 / φ). */
export const DROPOUT_STRIDE = 0x9e3779b9;

/** A layer's salt, from its full name (`drop1`, `block.0`): FNV-1a, then mixed. */
export function dropoutSalt(layer: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < layer.length; i++) h = Math.imul(h ^ layer.charCodeAt(i), 0x01000193);
  return mix32(h);
}

/** The key of a layer in a pass: what the kernels mix each element's index into. */
export const dropoutKey = (seed: number, salt: number): number => mix32((seed ^ salt) >>> 0);

/** Element `index`'s draw in [0, 2^24) for a layer's key. */
export const dropoutDraw = (key: number, index: number): number =>
  mix32((key + Math.imul(index, DROPOUT_STRIDE)) >>> 0) >>> (32 - DRAW_BITS);

/**
 * Draws below this are dropped: ⌈p · 2^24⌉, so that a draw d is dropped exactly when its uniform
 * d / 2^24 is below p (an integer comparison, the same in every backend).
 */
export const dropoutThreshold = (p: number): number => Math.ceil(p * 2 ** DRAW_BITS);

/** The uniform in [0, 1) a draw stands for: what the reference interpreter compares with p. */
export const drawUniform = (draw: number): number => draw / 2 ** DRAW_BITS;

/** A model's dropout state: the seed of the current training pass, the next one from a stream. */
export class DropoutSeeds {
  private current = 0;
  /** The seed of a pass that was taken back, for the next pass to take again. */
  private retracted: number | undefined;

  constructor(private readonly stream: Rng) {}

  /** A new training pass draws new masks; returns its seed. */
  next(): number {
    this.current = this.retracted ?? this.stream.uint32();
    this.retracted = undefined;
    return this.current;
  }

  /** The current pass changed nothing (its loss was not finite): the next one draws its masks. */
  retract(): void {
    this.retracted = this.current;
  }

  get seed(): number {
    return this.current;
  }

  /** Where the stream is, as JSON data: a checkpoint goes on with the same masks. */
  save(): DropoutState {
    return { stream: this.stream.save(), current: this.current, retracted: this.retracted ?? null };
  }

  restore(state: DropoutState): void {
    const seed = (s: unknown) =>
      Number.isInteger(s) && (s as number) >= 0 && (s as number) < 2 ** 32;
    if (!seed(state.current) || !(state.retracted === null || seed(state.retracted))) {
      throw new NetcError(
        `the dropout state's seeds must be 32-bit unsigned integers, got ${describeValue(state.current)} and ${describeValue(state.retracted)}`,
      );
    }
    this.stream.restore(state.stream);
    this.current = state.current;
    this.retracted = state.retracted ?? undefined;
  }
}

/** A model's dropout stream as plain data (`DropoutSeeds.save`). */
export interface DropoutState {
  stream: RngState;
  current: number;
  retracted: number | null;
}

/** The JS kernels' draws under the current pass's seed. */
export const dropoutDraws = (seeds: DropoutSeeds): DropoutDraws => ({
  key: (salt) => dropoutKey(seeds.seed, salt),
  draw: dropoutDraw,
});
