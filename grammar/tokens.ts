// Chevrotain tokens of the `.net` language, and the lexer that drops insignificant newlines.
import { createToken, Lexer, type IToken, type TokenType } from "chevrotain";

export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

function keyword(word: string): TokenType {
  return createToken({ name: word, pattern: new RegExp(word), longer_alt: Identifier });
}

export const Model = keyword("model");
export const Block = keyword("block");
export const Criterion = keyword("criterion");
export const Train = keyword("train");
export const Input = keyword("input");
export const Output = keyword("output");
export const True = keyword("true");
export const False = keyword("false");

/**
 * `nn.` or `torch.nn.` right before a name, as PyTorch code writes its modules. Kept out of the
 * parser, like comments, and joined to the layer name it qualifies (to-ast.ts), so that
 * `nn.Conv2d(...)` is one unknown layer whose quick fix rewrites it, not a stray `.`.
 */
export const Qualifier = createToken({
  name: "Qualifier",
  pattern: /(?:torch\.)?nn\.(?=[A-Za-z_])/,
  start_chars_hint: ["n", "t"],
  group: "qualifiers",
});

export const WhiteSpace = createToken({
  name: "WhiteSpace",
  pattern: /[ \t\f\v\u00a0\ufeff]+/,
  group: Lexer.SKIPPED,
});
export const Comment = createToken({ name: "Comment", pattern: /#[^\r\n]*/, group: "comments" });
/** "\r\n", "\n" or a lone "\r": the line breaks of the Language Server Protocol, which editors show. */
export const Newline = createToken({ name: "Newline", pattern: /\r\n?|\n/, line_breaks: true });
export const FloatLit = createToken({
  name: "FloatLit",
  pattern: /\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+/,
});
export const IntegerLit = createToken({ name: "IntegerLit", pattern: /\d+/ });
export const Arrow = createToken({ name: "Arrow", pattern: /->/, label: "'->'" });
export const LParen = createToken({ name: "LParen", pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: "RParen", pattern: /\)/, label: "')'" });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: "RBracket", pattern: /]/, label: "']'" });
export const LCurly = createToken({ name: "LCurly", pattern: /{/, label: "'{'" });
export const RCurly = createToken({ name: "RCurly", pattern: /}/, label: "'}'" });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: "','" });
export const Colon = createToken({ name: "Colon", pattern: /:/, label: "':'" });
export const Equals = createToken({ name: "Equals", pattern: /=/, label: "'='" });
export const Plus = createToken({ name: "Plus", pattern: /\+/, label: "'+'" });
export const Minus = createToken({ name: "Minus", pattern: /-/, label: "'-'" });
export const Star = createToken({ name: "Star", pattern: /\*/, label: "'*'" });
export const Slash = createToken({ name: "Slash", pattern: /\//, label: "'/'" });

export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  Newline,
  Model,
  Block,
  Criterion,
  Train,
  Input,
  Output,
  True,
  False,
  Qualifier,
  Identifier,
  FloatLit,
  IntegerLit,
  Arrow,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LCurly,
  RCurly,
  Comma,
  Colon,
  Equals,
  Plus,
  Minus,
  Star,
  Slash,
];

export const netLexer = new Lexer(allTokens, {
  positionTracking: "full",
  ensureOptimizations: true,
});

/**
 * Tokens after which a line break never ends a statement. Not `=` nor `:`: a line ending in
 * `kernel=` or `conv1:` is being typed, and must not take the next line's layer as its value.
 */
const continuesLine = new Set<TokenType>([
  Arrow,
  Comma,
  Plus,
  Minus,
  Star,
  Slash,
  LCurly,
  LParen,
  LBracket,
]);

/** Tokens before which a line break never ends a statement. */
const continuedBy = new Set<TokenType>([Arrow, RCurly, RParen, RBracket]);

/** The keywords that start a declaration, and so never continue a statement or a body. */
export const declKeywords: ReadonlySet<TokenType> = new Set([Model, Block, Criterion, Train]);

/**
 * A newline ends a statement unless it follows a token that needs more (`->`, `,`, an
 * arithmetic operator, an opening bracket) or precedes `->`, `}` or a closing bracket (a
 * chain or argument list continued on the next line). An unclosed bracket therefore ends at
 * the line break, so the parser recovers there instead of swallowing the rest of the file;
 * so does a line left unfinished (`criterion MSE +`) before a declaration.
 * Dropping these newlines here keeps the grammar free of optional line breaks.
 */
export function significantTokens(tokens: IToken[]): IToken[] {
  const out: IToken[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.tokenType === Newline) {
      const prev = out[out.length - 1];
      let j = i + 1;
      while (tokens[j]?.tokenType === Newline) j++;
      const next = tokens[j];
      const beforeDecl = next !== undefined && declKeywords.has(next.tokenType);
      if (
        prev === undefined ||
        prev.tokenType === Newline ||
        (continuesLine.has(prev.tokenType) && !beforeDecl) ||
        next === undefined ||
        continuedBy.has(next.tokenType)
      ) {
        continue;
      }
    }
    out.push(token);
  }
  return out;
}
