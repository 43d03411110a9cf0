// `Layer * n`: a layer, a block use or a parenthesised chain repeated n times, each repetition
// consuming the output of the one before, like an nn.Sequential of n copies.
import type { Binary, Expr } from "../grammar/ast.js";

/** A chain step `X * n`: what is repeated and the expression of the count. */
export interface Repeat {
  body: Expr;
  count: Expr;
  expr: Binary;
}

/** In a chain step, `*` repeats: a layer is never a number to multiply. */
export function asRepeat(e: Expr): Repeat | undefined {
  return e.kind === "Binary" && e.op === "*"
    ? { body: e.left, count: e.right, expr: e }
    : undefined;
}

/**
 * A count written as a number (`* 3`): what the layer budget multiplies by before anything is
 * expanded. A count computed from block parameters is known only at a use; it is checked there,
 * before that repeat expands.
 */
export function literalCount(r: Repeat): number | undefined {
  return r.count.kind === "Number" && r.count.isInteger ? r.count.value : undefined;
}
