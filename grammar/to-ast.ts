// CST → AST: the parser's concrete tree becomes the typed AST; recovered gaps become `Missing`.
import type { CstElement, CstNode, IToken } from "chevrotain";
import type * as A from "./ast.js";

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
  if (
    !loc ||
    Number.isNaN(loc.startOffset) ||
    loc.endOffset === undefined ||
    Number.isNaN(loc.endOffset)
  ) {
    return fallback;
  }
  return { pos: loc.startOffset, end: loc.endOffset + 1 };
}

function nodes(c: Children, key: string): CstNode[] {
  return (c[key] ?? []).filter((e): e is CstNode => !isToken(e));
}

function tokens(c: Children, key: string): IToken[] {
  return (c[key] ?? []).filter((e): e is IToken => isToken(e) && !e.isInsertedInRecovery);
}

function ident(t: IToken | undefined): A.Ident | undefined {
  return t
    ? { name: t.image, range: { pos: t.startOffset, end: t.startOffset + t.image.length } }
    : undefined;
}

class Builder {
  constructor(private readonly end: number) {}

  file(cst: CstNode, comments: A.Comment[]): A.NetFile {
    const decls: A.Decl[] = [];
    for (const d of nodes(cst.children, "decl")) {
      const decl = this.decl(d);
      if (decl) decls.push(decl);
    }
    return { kind: "File", decls, comments, range: { pos: 0, end: this.end } };
  }

  private span(e: CstElement | undefined): A.Span {
    return spanOf(e, { pos: this.end, end: this.end });
  }

  private decl(cst: CstNode): A.Decl | undefined {
    const c = cst.children;
    const model = nodes(c, "modelDecl")[0];
    if (model) {
      const name = ident(tokens(model.children, "Identifier")[0]);
      if (!name) return undefined;
      return {
        kind: "Model",
        name,
        body: this.body(nodes(model.children, "body")[0]),
        range: this.span(model),
      };
    }
    const block = nodes(c, "blockDecl")[0];
    if (block) {
      const name = ident(tokens(block.children, "Identifier")[0]);
      if (!name) return undefined;
      const params: A.BlockParam[] = [];
      for (const p of nodes(block.children, "param")) {
        const pname = ident(tokens(p.children, "Identifier")[0]);
        const def = nodes(p.children, "expr")[0];
        if (pname) params.push(def ? { name: pname, default: this.expr(def) } : { name: pname });
      }
      return {
        kind: "Block",
        name,
        params,
        body: this.body(nodes(block.children, "body")[0]),
        range: this.span(block),
      };
    }
    const crit = nodes(c, "criterionDecl")[0];
    if (crit) {
      return {
        kind: "Criterion",
        expr: this.expr(nodes(crit.children, "expr")[0]),
        range: this.span(crit),
      };
    }
    const train = nodes(c, "trainDecl")[0];
    if (train) {
      const settings: A.Setting[] = [];
      for (const s of nodes(train.children, "setting")) {
        const key = ident(tokens(s.children, "Identifier")[0]);
        if (key)
          settings.push({
            key,
            value: this.expr(nodes(s.children, "expr")[0]),
            range: this.span(s),
          });
      }
      return { kind: "Train", settings, range: this.span(train) };
    }
    return undefined;
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
      const name = ident(tokens(input.children, "Identifier")[0]);
      if (!name) return undefined;
      return { kind: "Input", name, shape: this.expr(nodes(input.children, "expr")[0]), range };
    }
    const output = nodes(c, "outputStmt")[0];
    if (output) {
      const names = tokens(output.children, "Identifier").map((t) => ident(t)!);
      return names.length > 0 ? { kind: "Output", names, range } : undefined;
    }
    const bind = nodes(c, "bindStmt")[0];
    if (bind) {
      const name = ident(tokens(bind.children, "Identifier")[0]);
      if (!name) return undefined;
      return { kind: "Bind", name, value: this.chain(nodes(bind.children, "chain")[0]), range };
    }
    const chain = nodes(c, "chain")[0];
    if (chain) return { kind: "Chain", value: this.chain(chain), range };
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
    const label = ident(tokens(cst.children, "label")[0]);
    const expr = this.expr(nodes(cst.children, "expr")[0]);
    return label ? { kind: "Labeled", label, expr, range: this.span(cst) } : expr;
  }

  /** Left-associative `a op b op c` over the operands and operator tokens of one rule. */
  private binary(cst: CstNode, opKeys: string[], operand: (n: CstNode) => A.Expr): A.Expr {
    const operands = nodes(cst.children, "operands");
    if (operands.length === 0) return this.missing(cst);
    const ops = opKeys
      .flatMap((k) => tokens(cst.children, k))
      .sort((a, b) => a.startOffset - b.startOffset);
    let left = operand(operands[0]!);
    for (let i = 1; i < operands.length; i++) {
      const right = operand(operands[i]!);
      const op = (ops[i - 1]?.image ?? "+") as A.Binary["op"];
      left = {
        kind: "Binary",
        op,
        left,
        right,
        range: { pos: left.range.pos, end: right.range.end },
      };
    }
    return left;
  }

  expr(cst: CstNode | undefined): A.Expr {
    if (!cst) return this.missing(cst);
    return this.binary(cst, ["Plus", "Minus"], (p) =>
      this.binary(p, ["Star", "Slash"], (u) => this.unary(u)),
    );
  }

  private unary(cst: CstNode): A.Expr {
    const inner = nodes(cst.children, "unary")[0];
    if (inner) return { kind: "Negate", operand: this.unary(inner), range: this.span(cst) };
    return this.primary(nodes(cst.children, "primary")[0]);
  }

  private primary(cst: CstNode | undefined): A.Expr {
    if (!cst) return this.missing(cst);
    const c = cst.children;
    const range = this.span(cst);
    const int = tokens(c, "IntegerLit")[0];
    if (int) return { kind: "Number", value: Number(int.image), isInteger: true, range };
    const float = tokens(c, "FloatLit")[0];
    if (float) return { kind: "Number", value: Number(float.image), isInteger: false, range };
    if (tokens(c, "true")[0]) return { kind: "Bool", value: true, range };
    if (tokens(c, "false")[0]) return { kind: "Bool", value: false, range };
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
    return this.missing(cst);
  }

  private call(cst: CstNode): A.Expr {
    const c = cst.children;
    const callee = ident(tokens(c, "Identifier")[0]);
    const range = this.span(cst);
    if (!callee) return this.missing(cst);
    const lparen = tokens(c, "LParen")[0];
    if (!lparen) return { kind: "Name", name: callee.name, range: callee.range };
    const args: A.Arg[] = nodes(c, "arg").map((a) => {
      const name = ident(tokens(a.children, "name")[0]);
      const value = this.chain(nodes(a.children, "chain")[0]);
      return name ? { name, value, range: this.span(a) } : { value, range: this.span(a) };
    });
    const argsRange = { pos: lparen.startOffset, end: range.end };
    return { kind: "Call", callee, args, argsRange, range };
  }
}

export function toAst(cst: CstNode, comments: A.Comment[], textLength: number): A.NetFile {
  return new Builder(textLength).file(cst, comments);
}
