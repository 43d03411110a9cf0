// CST → AST: the parser's concrete tree becomes the typed AST; recovered gaps become `Missing`.
import type { CstElement, CstNode, IToken } from "chevrotain";
import type * as A from "./ast.js";
import {
  MAX_BRACKET_DEPTH,
  MAX_EXPRESSION_DEPTH,
  tooDeep,
  type NestingProblem,
} from "./nesting.js";
import { OffsetSet } from "./offsets.js";

type Children = Record<string, CstElement[] | undefined>;

function isToken(e: CstElement | undefined): e is IToken {
  return e !== undefined && "image" in e;
}

function spanOf(e: CstElement | undefined, fallback: A.Span): A.Span {
  if (e === undefined) return fallback;
  if (isToken(e)) {
    return Number.isNaN(e.startOffset)
      ? fallback
      : { pos: e.startOffset, end: e.startOffset + e.image.length };
  }
  const loc = e.location;
  const start = loc?.startOffset ?? NaN;
  const last = loc?.endOffset ?? NaN;
  if (Number.isNaN(start) || Number.isNaN(last)) return fallback;
  // Recovery can leave a node whose recorded end precedes its start.
  return { pos: Math.min(start, last + 1), end: Math.max(start, last + 1) };
}

const none: never[] = [];

// A CST key holds only tokens or only nodes, so these read it without filtering (hot path).
function nodes(c: Children, key: string): CstNode[] {
  return (c[key] as CstNode[] | undefined) ?? none;
}

function token(c: Children, key: string): IToken | undefined {
  const t = c[key]?.[0] as IToken | undefined;
  return t === undefined || t.isInsertedInRecovery ? undefined : t;
}

function tokens(c: Children, key: string): IToken[] {
  const list = (c[key] as IToken[] | undefined) ?? none;
  return list.some((t) => t.isInsertedInRecovery)
    ? list.filter((t) => !t.isInsertedInRecovery)
    : list;
}

function ident(t: IToken | undefined): A.Ident | undefined {
  return t
    ? { name: t.image, range: { pos: t.startOffset, end: t.startOffset + t.image.length } }
    : undefined;
}

class Builder {
  readonly problems: NestingProblem[] = [];

  constructor(
    private readonly end: number,
    /** Where syntax errors were reported: calls around them are marked recovered. */
    private readonly errorOffsets: OffsetSet,
    /** Where each group of brackets the parser skipped as too deep ends, by its first bracket. */
    private readonly deepGroups: ReadonlyMap<number, number>,
    /** Each `nn.` qualifier (tokens.ts) by the offset it ends at, where its name starts. */
    private readonly qualifiers: ReadonlyMap<number, A.Ident>,
  ) {}

  /** The qualifiers joined to a layer name; any other is a syntax error (index.ts). */
  readonly qualified = new Set<number>();

  /** `nn.Conv2d`: a layer name and the qualifier right before it, as one name. */
  private qualify(id: A.Ident): A.Ident {
    const qualifier = this.qualifiers.get(id.range.pos);
    if (!qualifier) return id;
    this.qualified.add(qualifier.range.pos);
    return {
      name: qualifier.name + id.name,
      range: { pos: qualifier.range.pos, end: id.range.end },
    };
  }

  file(cst: CstNode, comments: A.Comment[]): A.NetFile {
    const decls: A.Decl[] = [];
    for (const d of nodes(cst.children, "decl")) {
      const decl = this.decl(d);
      if (decl) decls.push(decl);
    }
    return { kind: "File", decls, comments, range: { pos: 0, end: this.end } };
  }

  /** A declaration's or statement's expression, or `Missing` where it nests too deep to walk. */
  private root(e: A.Expr): A.Expr {
    if (!tooDeep(e)) return e;
    this.problems.push({
      range: e.range,
      message: `expression nested more than ${MAX_EXPRESSION_DEPTH} levels deep (brackets and operators)`,
    });
    return { kind: "Missing", range: e.range };
  }

  private span(e: CstElement | undefined): A.Span {
    return spanOf(e, { pos: this.end, end: this.end });
  }

  private decl(cst: CstNode): A.Decl | undefined {
    const c = cst.children;
    const model = nodes(c, "modelDecl")[0];
    if (model) {
      const name = ident(token(model.children, "Identifier"));
      if (!name) return undefined;
      const body = nodes(model.children, "body")[0];
      return {
        kind: "Model",
        name,
        body: this.body(body),
        ...this.lost(body),
        range: this.span(model),
      };
    }
    const block = nodes(c, "blockDecl")[0];
    if (block) {
      const name = ident(token(block.children, "Identifier"));
      if (!name) return undefined;
      const params: A.BlockParam[] = [];
      for (const p of nodes(block.children, "param")) {
        const pname = ident(token(p.children, "Identifier"));
        const def = nodes(p.children, "expr")[0];
        if (pname)
          params.push(def ? { name: pname, default: this.root(this.expr(def)) } : { name: pname });
      }
      const body = nodes(block.children, "body")[0];
      return {
        kind: "Block",
        name,
        params,
        body: this.body(body),
        ...this.lost(body, name.range),
        range: this.span(block),
      };
    }
    const crit = nodes(c, "criterionDecl")[0];
    if (crit) {
      return {
        kind: "Criterion",
        expr: this.root(this.expr(nodes(crit.children, "expr")[0])),
        range: this.span(crit),
      };
    }
    const train = nodes(c, "trainDecl")[0];
    if (train) {
      const settings: A.Setting[] = [];
      for (const s of nodes(train.children, "setting")) {
        const key = ident(token(s.children, "Identifier"));
        if (key)
          settings.push({
            key,
            value: this.root(this.expr(nodes(s.children, "expr")[0])),
            range: this.span(s),
          });
      }
      return { kind: "Train", settings, range: this.span(train) };
    }
    return undefined;
  }

  /**
   * A body whose `{` never came (what the parser made of the lines after is not the body), or
   * a syntax error in a block's parameters (its uses could not be checked against them).
   */
  private lost(cst: CstNode | undefined, header?: A.Span): { recovered?: true } {
    const lcurly = cst && token(cst.children, "LCurly");
    const broken = !lcurly || (header && this.errorOffsets.someIn(header.pos, lcurly.startOffset));
    return broken ? { recovered: true } : {};
  }

  private body(cst: CstNode | undefined): A.Stmt[] {
    if (!cst) return [];
    const out: A.Stmt[] = [];
    for (const s of nodes(cst.children, "stmt")) {
      const stmt = this.stmt(s);
      if (stmt) out.push(stmt);
    }
    return out;
  }

  private stmt(cst: CstNode): A.Stmt | undefined {
    const c = cst.children;
    const range = this.span(cst);
    const input = nodes(c, "inputStmt")[0];
    if (input) {
      const name = ident(token(input.children, "Identifier"));
      if (!name) return undefined;
      const shape = this.root(this.expr(nodes(input.children, "expr")[0]));
      return { kind: "Input", name, shape, range };
    }
    const output = nodes(c, "outputStmt")[0];
    if (output) {
      const names = tokens(output.children, "Identifier").map((t) => ident(t)!);
      return names.length > 0 ? { kind: "Output", names, range } : undefined;
    }
    const bind = nodes(c, "bindStmt")[0];
    if (bind) {
      const name = ident(token(bind.children, "Identifier"));
      if (!name) return undefined;
      const value = this.root(this.chain(nodes(bind.children, "chain")[0]));
      return { kind: "Bind", name, value, range };
    }
    const chain = nodes(c, "chain")[0];
    if (chain) return { kind: "Chain", value: this.root(this.chain(chain)), range };
    return undefined;
  }

  private missing(e: CstElement | undefined): A.Missing {
    return { kind: "Missing", range: this.span(e) };
  }

  chain(cst: CstNode | undefined): A.Expr {
    if (!cst) return this.missing(cst);
    const steps = nodes(cst.children, "step").map((s) => this.step(s));
    if (steps.length === 0) return this.missing(cst);
    if (steps.length === 1) return steps[0]!;
    return { kind: "Chain", steps, range: this.span(cst) };
  }

  private step(cst: CstNode): A.Expr {
    const label = ident(token(cst.children, "label"));
    const expr = this.expr(nodes(cst.children, "expr")[0]);
    return label ? { kind: "Labeled", label, expr, range: this.span(cst) } : expr;
  }

  /** Left-associative `a op b op c` over the operands and operator tokens of one rule. */
  private binary(cst: CstNode, ops: IToken[], operands: A.Expr[]): A.Expr {
    if (operands.length === 0) return this.missing(cst);
    if (ops.length > 1) ops.sort((a, b) => a.startOffset - b.startOffset);
    let left = operands[0]!;
    for (let i = 1; i < operands.length; i++) {
      const right = operands[i]!;
      const op = (ops[i - 1]?.image ?? "+") as A.Binary["op"];
      const range = {
        pos: Math.min(left.range.pos, right.range.pos),
        end: Math.max(left.range.end, right.range.end),
      };
      left = { kind: "Binary", op, left, right, range };
    }
    return left;
  }

  expr(cst: CstNode | undefined): A.Expr {
    if (!cst) return this.missing(cst);
    const c = cst.children;
    const ops = [...tokens(c, "Plus"), ...tokens(c, "Minus")];
    return this.binary(
      cst,
      ops,
      nodes(c, "operands").map((p) => this.product(p)),
    );
  }

  private product(cst: CstNode): A.Expr {
    const c = cst.children;
    const operands = nodes(c, "operands");
    if (operands.length === 1) return this.unary(operands[0]!);
    const ops = [...tokens(c, "Star"), ...tokens(c, "Slash")];
    return this.binary(
      cst,
      ops,
      operands.map((u) => this.unary(u)),
    );
  }

  private unary(cst: CstNode): A.Expr {
    const operand = this.primary(nodes(cst.children, "primary")[0], cst);
    const count = tokens(cst.children, "Minus").length;
    if (count === 0) return operand;
    // `-(-x)` is `--x`: one run of signs, which is also how the formatter prints it.
    return operand.kind === "Negate"
      ? { ...operand, count: count + operand.count, range: this.span(cst) }
      : { kind: "Negate", count, operand, range: this.span(cst) };
  }

  private primary(cst: CstNode | undefined, parent: CstNode): A.Expr {
    if (!cst) return this.missing(parent);
    const c = cst.children;
    const range = this.span(cst);
    const int = token(c, "IntegerLit");
    if (int) return { kind: "Number", value: Number(int.image), isInteger: true, range };
    const float = token(c, "FloatLit");
    if (float) return { kind: "Number", value: Number(float.image), isInteger: false, range };
    if (token(c, "true")) return { kind: "Bool", value: true, range };
    if (token(c, "false")) return { kind: "Bool", value: false, range };
    const call = nodes(c, "call")[0];
    if (call) return this.call(call);
    const tuple = nodes(c, "tuple")[0];
    if (tuple) {
      return {
        kind: "Tuple",
        items: nodes(tuple.children, "chain").map((ch) => this.chain(ch)),
        range,
      };
    }
    const parens = nodes(c, "parens")[0];
    if (parens) return this.chain(nodes(parens.children, "chain")[0]);
    const deep = nodes(c, "deep")[0];
    if (deep) return this.deep(deep);
    return this.missing(cst);
  }

  /** Brackets the parser skipped as nested too deep: one problem, and a gap in the AST. */
  private deep(cst: CstNode): A.Missing {
    const opener = token(cst.children, "LParen") ?? token(cst.children, "LBracket");
    const pos = this.span(cst).pos;
    if (!opener) return { kind: "Missing", range: { pos, end: pos } };
    this.problems.push({
      range: { pos: opener.startOffset, end: opener.startOffset + 1 },
      message: `brackets nested more than ${MAX_BRACKET_DEPTH} deep`,
    });
    return { kind: "Missing", range: { pos, end: this.deepGroups.get(opener.startOffset) ?? pos } };
  }

  private call(cst: CstNode): A.Expr {
    const c = cst.children;
    const name = ident(token(c, "Identifier"));
    if (!name) return this.missing(cst);
    const callee = this.qualify(name);
    const range = { pos: callee.range.pos, end: this.span(cst).end };
    const lparen = token(c, "LParen");
    if (!lparen) return { kind: "Name", name: callee.name, range: callee.range };
    const args: A.Arg[] = nodes(c, "arg").map((a) => {
      const name = ident(token(a.children, "name"));
      const value = this.chain(nodes(a.children, "chain")[0]);
      return name ? { name, value, range: this.span(a) } : { value, range: this.span(a) };
    });
    const argsRange = { pos: lparen.startOffset, end: range.end };
    // Recovery can also skip tokens inside the list and go on (`SpatialConvolution(4,0 kernel=3)`
    // loses `kernel=3`), leaving no mark on the node but the error's position.
    const recovered =
      cst.recoveredNode ||
      !token(c, "RParen") ||
      this.errorOffsets.someIn(lparen.startOffset + 1, range.end);
    if (recovered) {
      return { kind: "Call", callee, args, argsRange, recovered: true, range };
    }
    return { kind: "Call", callee, args, argsRange, range };
  }
}

export function toAst(
  cst: CstNode,
  comments: A.Comment[],
  textLength: number,
  errorOffsets: OffsetSet = new OffsetSet([]),
  deepGroups: ReadonlyMap<number, number> = new Map(),
  qualifiers: readonly A.Ident[] = [],
): { ast: A.NetFile; problems: NestingProblem[]; stray: A.Ident[] } {
  const byEnd = new Map(qualifiers.map((q) => [q.range.end, q] as const));
  const builder = new Builder(textLength, errorOffsets, deepGroups, byEnd);
  const ast = builder.file(cst, comments);
  const stray = qualifiers.filter((q) => !builder.qualified.has(q.range.pos));
  return { ast, problems: builder.problems, stray };
}
