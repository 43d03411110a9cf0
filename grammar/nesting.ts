// Bounds on nesting, so that neither the parser nor any walk over the AST runs out of stack.
import { createTokenInstance, type IToken } from "chevrotain";
import type { Expr, Span } from "./ast.js";
import {
  declKeywords,
  Elided,
  Identifier,
  LBracket,
  LCurly,
  LParen,
  Newline,
  RBracket,
  RCurly,
  RParen,
} from "./tokens.js";

/**
 * Brackets (`(` and `[`) open at once. The parser recurses through seven rules per bracket,
 * and each 200 or so of them overflowed the stack; no model nests more than a handful.
 */
export const MAX_BRACKET_DEPTH = 64;

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

/** Tokens after which the brackets still open no longer matter: the statement has ended. */
const endsStatement = new Set([Newline, LCurly, RCurly, ...declKeywords]);

/**
 * Replaces each run of brackets opened beyond `MAX_BRACKET_DEPTH` (with the call's name
 * before it) by one `Elided` token, up to its closing bracket or the end of the statement.
 * The parser reads an `Elided` as a value, and the AST has a `Missing` there.
 */
export function elideDeepBrackets(
  tokens: IToken[],
  text: string,
): { tokens: IToken[]; problems: NestingProblem[] } {
  const out: IToken[] = [];
  const problems: NestingProblem[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const type = token.tokenType;
    if (endsStatement.has(type)) depth = 0;
    else if (type === RParen || type === RBracket) depth = Math.max(0, depth - 1);
    else if (type === LParen || type === LBracket) depth++;
    if (depth <= MAX_BRACKET_DEPTH) {
      out.push(token);
      continue;
    }
    problems.push({
      range: { pos: token.startOffset, end: token.startOffset + 1 },
      message: `brackets nested more than ${MAX_BRACKET_DEPTH} deep`,
    });
    // `Linear(` elided whole: the parser would not take an argument list without its call.
    const call = out[out.length - 1]?.tokenType === Identifier && type === LParen;
    const first = call ? out.pop()! : token;
    let last = token;
    while (depth > MAX_BRACKET_DEPTH) {
      const next = tokens[i + 1];
      if (next === undefined || endsStatement.has(next.tokenType)) break;
      i++;
      last = next;
      if (next.tokenType === RParen || next.tokenType === RBracket) depth--;
      else if (next.tokenType === LParen || next.tokenType === LBracket) depth++;
    }
    const pos = first.startOffset;
    const end = last.startOffset + last.image.length;
    out.push(
      createTokenInstance(
        Elided,
        text.slice(pos, end),
        pos,
        end - 1,
        first.startLine ?? NaN,
        last.endLine ?? NaN,
        first.startColumn ?? NaN,
        last.endColumn ?? NaN,
      ),
    );
  }
  return { tokens: out, problems };
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
