// The chevrotain parser of `.net` files: one reused instance, error recovery on, CST out.
import {
  CstParser,
  EOF,
  type CstNode,
  type IToken,
  type IParserErrorMessageProvider,
  type TokenType,
} from "chevrotain";
import { MAX_BRACKET_DEPTH } from "./nesting.js";
import * as T from "./tokens.js";
import { syntaxMessages } from "./syntax-messages.js";

/**
 * The chevrotain internals (11.2, pinned in package.json) that NetParser replaces or uses:
 * its two overrides are about the cost of recovery, not its outcome, and `deep` skips tokens.
 */
interface ChevrotainInternals {
  RULE_STACK: number[];
  RULE_STACK_IDX: number;
  RULE_OCCURRENCE_STACK: number[];
  SKIP_TOKEN(): IToken;
  getFollowsForInRuleRecovery(tokType: TokenType, tokIdxInRule: number): TokenType[];
  tryInRepetitionRecovery(
    grammarRule: (...args: unknown[]) => void,
    grammarRuleArgs: unknown[],
    lookAheadFunc: () => boolean,
    expectedTokType: TokenType,
  ): void;
}

const chevrotain = CstParser.prototype as unknown as ChevrotainInternals;

/** Where a skipped group of brackets ends at the latest: the end of its statement. */
const endsGroup = new Set<TokenType>([EOF, T.Newline, T.RCurly, ...T.declKeywords]);

/** Distinct grammar paths stay few, but a cache shared by every parse must not grow without end. */
const FOLLOWS_CACHE_LIMIT = 10_000;

/** A repetition being re-entered after recovery: see `tryInRepetitionRecovery`. */
interface Reentry {
  depth: number;
  rule: unknown;
  occurrence: unknown;
  next: (() => void) | undefined;
}

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

  private readonly follows = new Map<string, TokenType[]>();

  /**
   * What may follow the token a mismatch happened after. Chevrotain walks the grammar from the
   * top rule for every mismatch, which made each syntax error cost a quarter of a millisecond;
   * the answer depends only on the rule stack and the token's place in its rule, so it is
   * computed once per such path.
   */
  getFollowsForInRuleRecovery(tokType: TokenType, tokIdxInRule: number): TokenType[] {
    const self = this as unknown as ChevrotainInternals;
    const depth = self.RULE_STACK_IDX + 1;
    const key = `${self.RULE_STACK.slice(0, depth).join(",")}|${self.RULE_OCCURRENCE_STACK.slice(0, depth).join(",")}|${tokType.name}|${tokIdxInRule}`;
    let follows = this.follows.get(key);
    if (follows === undefined) {
      if (this.follows.size >= FOLLOWS_CACHE_LIMIT) this.follows.clear();
      follows = chevrotain.getFollowsForInRuleRecovery.call(this, tokType, tokIdxInRule);
      this.follows.set(key, follows);
    }
    return follows;
  }

  private reentry: Reentry | undefined;

  /**
   * After skipping the tokens that broke a repetition (`ReLU ReLU` on a body's line), chevrotain
   * re-enters the repetition by calling it from inside itself: one level of the JavaScript
   * stack per such error, so a few thousand of them in one body overflowed it. The call is
   * the last thing each level does, so it is deferred here and made by a loop instead, at the
   * level of the first: same order, same result, a stack that does not grow.
   */
  tryInRepetitionRecovery(
    grammarRule: (...args: unknown[]) => void,
    grammarRuleArgs: unknown[],
    lookAheadFunc: () => boolean,
    expectedTokType: TokenType,
  ): void {
    const depth = (this as unknown as ChevrotainInternals).RULE_STACK_IDX;
    const outer = this.reentry;
    const again =
      outer !== undefined &&
      outer.depth === depth &&
      outer.rule === grammarRule &&
      outer.occurrence === grammarRuleArgs[0];
    // A repetition at the same rule depth is the one being re-entered (the grammar nests no
    // repetition inside another within one rule); a deeper one is a new loop of its own.
    const target: Reentry = again
      ? outer
      : { depth, rule: grammarRule, occurrence: grammarRuleArgs[0], next: undefined };
    const defer = (...args: unknown[]) => {
      target.next = () => grammarRule.apply(this, args);
    };
    const recover = () =>
      chevrotain.tryInRepetitionRecovery.call(
        this,
        defer,
        grammarRuleArgs,
        lookAheadFunc,
        expectedTokType,
      );
    if (again) return recover();
    this.reentry = target;
    try {
      recover();
      while (target.next) {
        const next = target.next;
        target.next = undefined;
        next();
      }
    } finally {
      this.reentry = outer;
    }
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

  /** `- - x`: a loop, not a rule calling itself, so that no number of `-` can overflow the stack. */
  unary = this.RULE("unary", () => {
    this.MANY(() => this.CONSUME(T.Minus));
    this.SUBRULE(this.primary);
  });

  primary = this.RULE("primary", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.IntegerLit) },
      { ALT: () => this.CONSUME(T.FloatLit) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { GATE: () => !this.tooDeep(), ALT: () => this.SUBRULE(this.call) },
      { GATE: () => !this.tooDeep(), ALT: () => this.SUBRULE(this.tuple) },
      { GATE: () => !this.tooDeep(), ALT: () => this.SUBRULE(this.parens) },
      // The same first tokens as the three above: the gates, not the tokens, choose.
      { GATE: this.tooDeep, ALT: () => this.SUBRULE(this.deep), IGNORE_AMBIGUITIES: true },
    ]);
  });

  /** Brackets open around the position being parsed: argument lists, lists, parentheses. */
  private brackets = 0;

  /** The offset of each skipped group's first bracket (see `deep`) → the offset after it. */
  readonly deepGroups = new Map<number, number>();

  private inBrackets(parse: () => void): void {
    this.brackets++;
    try {
      parse();
    } finally {
      this.brackets--;
    }
  }

  /** Whether the next value opens a bracket past MAX_BRACKET_DEPTH. */
  private tooDeep = (): boolean => {
    if (this.brackets < MAX_BRACKET_DEPTH) return false;
    const next = this.LA(1).tokenType;
    return (
      next === T.LParen ||
      next === T.LBracket ||
      (next === T.Identifier && this.LA(2).tokenType === T.LParen)
    );
  };

  /**
   * Brackets past MAX_BRACKET_DEPTH, skipped whole (to the matching bracket, or the end of the
   * statement) rather than parsed: the parser's recursion stays bounded whatever the input,
   * where counting brackets before parsing could not know how recovery would nest them. The
   * AST has a Missing there, and the problem is reported once (to-ast.ts).
   */
  deep = this.RULE("deep", () => {
    this.OPTION(() => this.CONSUME(T.Identifier));
    const opener = this.OR([
      { ALT: () => this.CONSUME(T.LParen) },
      { ALT: () => this.CONSUME(T.LBracket) },
    ]);
    this.ACTION(() => {
      let open = 1;
      let end = opener.startOffset + opener.image.length;
      for (let t = this.LA(1); open > 0 && !endsGroup.has(t.tokenType); t = this.LA(1)) {
        if (t.tokenType === T.LParen || t.tokenType === T.LBracket) open++;
        else if (t.tokenType === T.RParen || t.tokenType === T.RBracket) open--;
        end = t.startOffset + t.image.length;
        (this as unknown as ChevrotainInternals).SKIP_TOKEN();
      }
      this.deepGroups.set(opener.startOffset, end);
    });
  });

  call = this.RULE("call", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.inBrackets(() => {
        this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.arg) });
        this.CONSUME(T.RParen);
      });
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
    this.inBrackets(() => {
      this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.chain) });
      this.CONSUME(T.RBracket);
    });
  });

  parens = this.RULE("parens", () => {
    this.CONSUME(T.LParen);
    this.inBrackets(() => {
      this.SUBRULE(this.chain);
      this.CONSUME(T.RParen);
    });
  });
}

export const parser = new NetParser(syntaxMessages);

export function parseTokens(tokens: IToken[]): CstNode {
  parser.input = tokens;
  parser.deepGroups.clear();
  // Chevrotain makes an Error per syntax error and captures a stack trace nobody reads: most
  // of what an error cost once the follow sets were cached. Parsing is synchronous, so the
  // global setting is back before anything else runs.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return parser.file();
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}
