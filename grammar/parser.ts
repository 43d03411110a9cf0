// The chevrotain parser of `.net` files: one reused instance, error recovery on, CST out.
import {
  CstParser,
  EOF,
  type CstNode,
  type IToken,
  type IParserErrorMessageProvider,
  type TokenType,
} from "chevrotain";
import * as T from "./tokens.js";
import { syntaxMessages } from "./syntax-messages.js";

class NetParser extends CstParser {
  constructor(errorMessageProvider: IParserErrorMessageProvider) {
    super(T.allTokens, {
      recoveryEnabled: true,
      nodeLocationTracking: "onlyOffset",
      maxLookahead: 3,
      errorMessageProvider,
    });
    this.performSelfAnalysis();
  }

  /**
   * A stray token right before the expected one is deleted, rather than kept after an inserted
   * copy of the expected one (`model My Net {` would read `Net` as the body's first layer).
   */
  protected override canTokenTypeBeInsertedInRecovery(tokType: TokenType): boolean {
    return this.LA(2).tokenType !== tokType;
  }

  file = this.RULE("file", () => {
    // Not MANY_SEP: it would stop at a first line that starts no declaration and drop the
    // whole file; here that line fails in `decl` and is recovered from like any later one.
    if (this.RECORDING_PHASE || this.LA(1).tokenType !== EOF) {
      this.SUBRULE(this.decl);
      this.MANY(() => {
        this.CONSUME(T.Newline);
        this.SUBRULE2(this.decl);
      });
    }
  });

  decl = this.RULE("decl", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.modelDecl) },
      { ALT: () => this.SUBRULE(this.blockDecl) },
      { ALT: () => this.SUBRULE(this.criterionDecl) },
      { ALT: () => this.SUBRULE(this.trainDecl) },
    ]);
  });

  modelDecl = this.RULE("modelDecl", () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.body);
  });

  blockDecl = this.RULE("blockDecl", () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.param) });
      this.CONSUME(T.RParen);
    });
    this.SUBRULE(this.body);
  });

  param = this.RULE("param", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expr);
    });
  });

  body = this.RULE("body", () => {
    this.CONSUME(T.LCurly);
    this.OPTION(() => this.SUBRULE(this.stmt));
    this.MANY({
      GATE: this.beforeDecl,
      DEF: () => {
        this.CONSUME(T.Newline);
        this.SUBRULE2(this.stmt);
      },
    });
    this.CONSUME(T.RCurly);
  });

  /**
   * A line starting with `model`, `block`, `criterion` or `train` is never part of a body:
   * the body's `}` is missing. Stopping before it lets the parser insert the `}` and go on
   * with that declaration, instead of skipping it as garbage.
   */
  private beforeDecl = (): boolean => !T.declKeywords.has(this.LA(2).tokenType);

  stmt = this.RULE("stmt", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.inputStmt) },
      { ALT: () => this.SUBRULE(this.outputStmt) },
      { ALT: () => this.SUBRULE(this.bindStmt) },
      { ALT: () => this.SUBRULE(this.chain) },
    ]);
  });

  inputStmt = this.RULE("inputStmt", () => {
    this.CONSUME(T.Input);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.expr);
  });

  outputStmt = this.RULE("outputStmt", () => {
    this.CONSUME(T.Output);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.Identifier) });
  });

  bindStmt = this.RULE("bindStmt", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.chain);
  });

  criterionDecl = this.RULE("criterionDecl", () => {
    this.CONSUME(T.Criterion);
    this.SUBRULE(this.expr);
  });

  trainDecl = this.RULE("trainDecl", () => {
    this.CONSUME(T.Train);
    this.CONSUME(T.LCurly);
    this.OPTION(() => this.SUBRULE(this.setting));
    this.MANY({
      GATE: this.beforeDecl,
      DEF: () => {
        this.CONSUME(T.Newline);
        this.SUBRULE2(this.setting);
      },
    });
    this.CONSUME(T.RCurly);
  });

  setting = this.RULE("setting", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr);
  });

  chain = this.RULE("chain", () => {
    this.AT_LEAST_ONE_SEP({ SEP: T.Arrow, DEF: () => this.SUBRULE(this.step) });
  });

  step = this.RULE("step", () => {
    this.OPTION({
      GATE: () => this.LA(2).tokenType === T.Colon,
      DEF: () => {
        this.CONSUME(T.Identifier, { LABEL: "label" });
        this.CONSUME(T.Colon);
      },
    });
    this.SUBRULE(this.expr);
  });

  expr = this.RULE("expr", () => {
    this.SUBRULE(this.product, { LABEL: "operands" });
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      this.SUBRULE2(this.product, { LABEL: "operands" });
    });
  });

  product = this.RULE("product", () => {
    this.SUBRULE(this.unary, { LABEL: "operands" });
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Star) }, { ALT: () => this.CONSUME(T.Slash) }]);
      this.SUBRULE2(this.unary, { LABEL: "operands" });
    });
  });

  unary = this.RULE("unary", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Minus);
          this.SUBRULE(this.unary);
        },
      },
      { ALT: () => this.SUBRULE(this.primary) },
    ]);
  });

  primary = this.RULE("primary", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.IntegerLit) },
      { ALT: () => this.CONSUME(T.FloatLit) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.SUBRULE(this.call) },
      { ALT: () => this.SUBRULE(this.tuple) },
      { ALT: () => this.SUBRULE(this.parens) },
    ]);
  });

  call = this.RULE("call", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.arg) });
      this.CONSUME(T.RParen);
    });
  });

  arg = this.RULE("arg", () => {
    this.OPTION({
      GATE: () => this.LA(2).tokenType === T.Equals,
      DEF: () => {
        this.CONSUME(T.Identifier, { LABEL: "name" });
        this.CONSUME(T.Equals);
      },
    });
    this.SUBRULE(this.chain);
  });

  tuple = this.RULE("tuple", () => {
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.chain) });
    this.CONSUME(T.RBracket);
  });

  parens = this.RULE("parens", () => {
    this.CONSUME(T.LParen);
    this.SUBRULE(this.chain);
    this.CONSUME(T.RParen);
  });
}

export const parser = new NetParser(syntaxMessages);

export function parseTokens(tokens: IToken[]): CstNode {
  parser.input = tokens;
  return parser.file();
}
