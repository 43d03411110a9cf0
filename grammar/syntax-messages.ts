// Syntax error messages in the user's words: "expected ')', found end of line".
import { EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from "chevrotain";
import { declKeywords, Newline, RCurly } from "./tokens.js";

const tokenNames: Record<string, string> = {
  Identifier: "a name",
  IntegerLit: "an integer",
  FloatLit: "a number",
  Newline: "a new line",
};

function describeType(type: TokenType): string {
  return tokenNames[type.name] ?? (typeof type.LABEL === "string" ? type.LABEL : `'${type.name}'`);
}

function describeToken(token: IToken | undefined): string {
  if (token === undefined || token.tokenType === EOF) return "end of file";
  if (token.tokenType === Newline) return "end of line";
  return `'${token.image}'`;
}

/** What a rule expects, in words, when listing its first tokens would be too long. */
const ruleExpects: Record<string, string> = {
  file: "'model', 'block', 'criterion' or 'train'",
  decl: "'model', 'block', 'criterion' or 'train'",
  stmt: "a layer, a binding, 'input' or 'output'",
  primary: "a value (a number, a name, a layer or '[')",
  unary: "a value (a number, a name, a layer or '[')",
  expr: "a layer or a value",
  product: "a layer or a value",
  chain: "a layer or a value",
  step: "a layer or a value",
  arg: "an argument",
};

function oneOf(words: string[]): string {
  const unique = [...new Set(words)];
  if (unique.length <= 1) return unique[0] ?? "something else";
  return `${unique.slice(0, -1).join(", ")} or ${unique[unique.length - 1]}`;
}

function expectedFrom(paths: TokenType[][], ruleName: string): string {
  const firsts = paths.map((p) => p[0]).filter((t): t is TokenType => t !== undefined);
  if (firsts.length > 4 && ruleExpects[ruleName]) return ruleExpects[ruleName]!;
  return ruleExpects[ruleName] ?? oneOf(firsts.map(describeType));
}

/** Where a body's `}` is expected: after a statement, or before a declaration (see parser). */
function expectedBrace(actual: IToken): string {
  if (actual.tokenType === EOF) return `expected '}', found end of file`;
  if (actual.tokenType === Newline) return `expected '}' before the next declaration`;
  if (declKeywords.has(actual.tokenType)) return `expected '}' before ${describeToken(actual)}`;
  return `unexpected ${describeToken(actual)}; expected the end of the line or '}'`;
}

export const syntaxMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) =>
    expected === RCurly
      ? expectedBrace(actual)
      : expected === EOF
        ? `unexpected ${describeToken(actual)}; expected a new line or the end of the file`
        : `expected ${describeType(expected)}, found ${describeToken(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) =>
    `unexpected ${describeToken(firstRedundant)}; expected a new line or the end of the file`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) =>
    `unexpected ${describeToken(actual[0])}; expected ${expectedFrom(expectedPathsPerAlt.flat(), ruleName)}`,
  buildEarlyExitMessage: ({ expectedIterationPaths, actual, ruleName }) =>
    `unexpected ${describeToken(actual[0])}; expected ${expectedFrom(expectedIterationPaths, ruleName)}`,
};
