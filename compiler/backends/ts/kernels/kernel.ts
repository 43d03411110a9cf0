// What a kernel is to the TS backend: a function from its op's attributes and tensor offsets to JS source.
import type { OpAttrs, OpName } from "../../../ops.js";

/**
 * The emitted code runs inside a closure that has, in scope: `f` (the Float32Array arena),
 * `iv` (an Int32Array over the same memory, for class targets), `N` (the batch), `count`
 * (valid samples in this batch, ≤ N), `training` (a boolean) and `dropout` (the current
 * training pass's draws, runtime/api-types.ts `DropoutDraws`).
 * `ins` and `outs` are the names of constants holding each tensor's offset in the arena.
 */
export interface EmitArgs<K extends OpName> {
  ins: string[];
  outs: string[];
  a: OpAttrs[K];
  /** Add into the first output instead of overwriting it. */
  acc: boolean;
}

export type KernelEmitter<K extends OpName> = (e: EmitArgs<K>) => string;

/** `=` or `+=` for a kernel writing a gradient that may already hold another consumer's part. */
export const assign = (acc: boolean): string => (acc ? "+=" : "=");

/** Clears a gradient of `count` elements before a kernel scatters into it, unless it adds. */
export const clearUnlessAccumulating = (out: string, count: string, acc: boolean): string =>
  acc ? "" : `f.fill(0, ${out}, ${out} + ${count});\n`;
