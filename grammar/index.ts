// parse(text) → { ast, problems }: lexing, parsing with recovery, and CST → AST.
import { EOF, type CstElement } from "chevrotain";
import type { NetFile, Span } from "./ast.js";
import { OffsetSet } from "./offsets.js";
import { parseTokens, parser } from "./parser.js";
import { LineMap } from "./positions.js";
import { netLexer, significantTokens } from "./tokens.js";
import { toAst } from "./to-ast.js";

export type * from "./ast.js";

/** What the grammar finds wrong, as data; the compiler reports it under the same code. */
export interface SyntaxProblem {
  code: "invalid-character" | "syntax-error" | "nesting-too-deep";
  range: Span;
  message: string;
}

export interface ParseResult {
  ast: NetFile;
  problems: SyntaxProblem[];
}

export function parse(text: string): ParseResult {
  const problems: SyntaxProblem[] = [];
  const lexed = netLexer.tokenize(text);
  for (const err of lexed.errors) {
    const range = { pos: err.offset, end: err.offset + Math.max(1, err.length) };
    const message = `unexpected character '${text.slice(range.pos, range.end)}'`;
    problems.push({ code: "invalid-character", range, message });
  }
  // The lexer drops an invalid character, so the parser sees its neighbours side by side: a
  // syntax error at the very next token is a consequence, already reported.
  const afterInvalid = new Set(lexed.errors.map((e) => skipBlanks(text, e.offset + e.length)));
  const cst = parseTokens(significantTokens(lexed.tokens));
  const declStarts = new OffsetSet((cst.children["decl"] ?? []).map((d) => startOf(d)));
  let previous = -1;
  for (const err of parser.errors) {
    const token = err.token;
    const range =
      token.tokenType === EOF || Number.isNaN(token.startOffset)
        ? { pos: text.length, end: text.length }
        : { pos: token.startOffset, end: token.startOffset + token.image.length };
    // After a mistyped declaration header, each line of its body fails again as "not a
    // declaration": one error until the next declaration that does start is enough.
    const again =
      err.context.ruleStack.length <= 2 &&
      previous >= 0 &&
      !declStarts.someIn(previous + 1, range.pos + 1);
    previous = range.pos;
    if (afterInvalid.has(range.pos) || again) continue;
    problems.push({ code: "syntax-error", range, message: err.message });
  }
  const comments = (lexed.groups["comments"] ?? []).map((t) => ({
    text: t.image,
    range: { pos: t.startOffset, end: t.startOffset + t.image.length },
  }));
  const errorOffsets = new OffsetSet(problems.map((d) => d.range.pos));
  // Prose that lost its `#` is one syntax error; the stray characters after it are no news.
  const syntaxErrors = new OffsetSet(
    problems.filter((p) => p.code === "syntax-error").map((p) => p.range.pos),
  );
  const lines = lexed.errors.length > 0 ? new LineMap(text) : undefined;
  const kept = problems.filter((d) => {
    if (d.code !== "invalid-character") return true;
    const before = syntaxErrors.before(d.range.pos);
    return before === undefined || lines!.at(before).line !== lines!.at(d.range.pos).line;
  });
  const qualifiers = (lexed.groups["qualifiers"] ?? []).map((t) => ({
    name: t.image,
    range: { pos: t.startOffset, end: t.startOffset + t.image.length },
  }));
  const {
    ast,
    problems: tooDeep,
    stray,
  } = toAst(cst, comments, text.length, errorOffsets, parser.deepGroups, qualifiers);
  for (const p of tooDeep) kept.push({ code: "nesting-too-deep", ...p });
  // `nn.` before a label or a value's name: only a layer name may carry it.
  for (const q of stray) {
    const message = `unexpected '${q.name}': only a layer name may be written with it, as in nn.Conv2d`;
    kept.push({ code: "syntax-error", range: q.range, message });
  }
  return { ast, problems: kept };
}

/** Where a CST node starts; NaN for one the parser gave up on. */
function startOf(e: CstElement): number {
  return "image" in e ? e.startOffset : (e.location?.startOffset ?? Number.NaN);
}

function skipBlanks(text: string, offset: number): number {
  while (text[offset] === " " || text[offset] === "\t") offset++;
  return offset;
}
