// parse(text) → { ast, diagnostics }: lexing, parsing with recovery, and CST → AST.
import { EOF } from "chevrotain";
import { diagnostic, type Diagnostic } from "../compiler/diagnostics.js";
import type { NetFile } from "./ast.js";
import { parseTokens, parser } from "./parser.js";
import { netLexer, significantTokens } from "./tokens.js";
import { toAst } from "./to-ast.js";

export type * from "./ast.js";

export interface ParseResult {
  ast: NetFile;
  diagnostics: Diagnostic[];
}

export function parse(text: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const lexed = netLexer.tokenize(text);
  for (const err of lexed.errors) {
    const range = { pos: err.offset, end: err.offset + Math.max(1, err.length) };
    diagnostics.push(
      diagnostic("invalid-character", range, { text: text.slice(range.pos, range.end) }),
    );
  }
  const cst = parseTokens(significantTokens(lexed.tokens));
  for (const err of parser.errors) {
    const token = err.token;
    const range =
      token.tokenType === EOF || Number.isNaN(token.startOffset)
        ? { pos: text.length, end: text.length }
        : { pos: token.startOffset, end: token.startOffset + token.image.length };
    diagnostics.push(diagnostic("syntax-error", range, { detail: err.message }));
  }
  const comments = (lexed.groups["comments"] ?? []).map((t) => ({
    text: t.image,
    range: { pos: t.startOffset, end: t.startOffset + t.image.length },
  }));
  return { ast: toAst(cst, comments, text.length), diagnostics };
}
