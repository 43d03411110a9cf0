// Bounds on nesting, so that neither the parser nor any walk over the AST runs out of stack.
import type { Expr, Span } from "./ast.js";

/**
 * Brackets (a call's `(`, `[` and `(`) open at once. The parser recurses through eight rules
 * per bracket, and recovering from a syntax error walks the grammar along all of them: 200
 * or so overflowed the stack, and 65 still could when recovery started at the innermost.
 * No model nests more than a handful. The parser skips deeper ones whole (NetParser.deep).
 */
export const MAX_BRACKET_DEPTH = 32;

/**
 * Levels of one expression's tree: brackets, and operators, which nest to the left
 * (`a + b + c` is `(a + b) + c`). Every walk over expressions recurses, so it is bounded here,
 * well within the stack, once for them all.
 */
export const MAX_EXPRESSION_DEPTH = 256;

export interface NestingProblem {
  range: Span;
  message: string;
}

/**
 * Whether `root` is nested deeper than `MAX_EXPRESSION_DEPTH`: found with a stack of its own,
 * since recursing would be the very thing the bound prevents.
 */
export function tooDeep(root: Expr): boolean {
  const pending: [Expr, number][] = [[root, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [e, depth] = next;
    if (depth > MAX_EXPRESSION_DEPTH) return true;
    for (const child of children(e)) pending.push([child, depth + 1]);
  }
  return false;
}

function children(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case "Call":
      return e.args.map((a) => a.value);
    case "Tuple":
      return e.items;
    case "Binary":
      return [e.left, e.right];
    case "Negate":
      return [e.operand];
    case "Chain":
      return e.steps;
    case "Labeled":
      return [e.expr];
    default:
      return [];
  }
}
