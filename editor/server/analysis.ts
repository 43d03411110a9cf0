// One checked version of a document, and the source queries every feature shares.
import type { CheckResult } from "../../compiler/check.js";
import type { IRNode, ModelIR } from "../../compiler/ir.js";
import type {
  BlockDecl,
  Call,
  Decl,
  Expr,
  Ident,
  Labeled,
  ModelDecl,
  NetFile,
  Span,
  Stmt,
} from "../../grammar/ast.js";
import type { LineMap } from "../../grammar/positions.js";

export interface Analysis {
  uri: string;
  version: number;
  text: string;
  lines: LineMap;
  result: CheckResult;
}

/** Whether `offset` touches `span`, its end included: the cursor right after a name is on it. */
export const touches = (span: Span, offset: number): boolean =>
  span.pos <= offset && offset <= span.end;

export function declAt(ast: NetFile, offset: number): Decl | undefined {
  return ast.decls.find((d) => touches(d.range, offset));
}

/** The model a declaration of the file belongs to: itself, or the model before a criterion. */
export function modelOf(analysis: Analysis, decl: Decl): ModelIR | undefined {
  if (decl.kind === "Block") return undefined;
  const models = analysis.result.ast.decls.filter((d) => d.kind === "Model");
  const index = models.filter((m) => m.range.pos <= decl.range.pos).length - 1;
  return analysis.result.models[index];
}

/** The declaration of the model a criterion or train block belongs to: the one before it. */
export function modelDeclBefore(ast: NetFile, decl: Decl): ModelDecl | undefined {
  const models = ast.decls.filter((d): d is ModelDecl => d.kind === "Model");
  return models.filter((m) => m.range.pos < decl.range.pos).pop();
}

/** The label `name` in a model's body: where a layer or block use is given it. */
export function labelIn(model: ModelDecl, name: string): Ident | undefined {
  let label: Ident | undefined;
  for (const root of model.body.flatMap(stmtExprs)) {
    walk(root, (e) => {
      if (!label && e.kind === "Labeled" && e.label.name === name) label = e.label;
    });
  }
  return label;
}

/** A name in the source and what it stands for there. */
export type Found =
  /** A layer, block, value, criterion or optimizer name, called or bare. */
  | { role: "ref"; ident: Ident; decl: Decl; call?: Call }
  | { role: "label"; ident: Ident; decl: Decl; step: Labeled }
  | { role: "argName"; ident: Ident; decl: Decl; call: Call }
  /** A name being defined: a binding, input, block parameter, output or train setting. */
  | { role: "definition"; ident: Ident; decl: Decl };

export function stmtExprs(stmt: Stmt): Expr[] {
  switch (stmt.kind) {
    case "Input":
      return [stmt.shape];
    case "Output":
      return [];
    case "Bind":
    case "Chain":
      return [stmt.value];
  }
}

function declExprs(decl: Decl): Expr[] {
  switch (decl.kind) {
    case "Model":
      return decl.body.flatMap(stmtExprs);
    case "Block":
      return [
        ...decl.params.flatMap((p) => (p.default ? [p.default] : [])),
        ...decl.body.flatMap(stmtExprs),
      ];
    case "Criterion":
      return [decl.expr];
    case "Train":
      return decl.settings.map((s) => s.value);
  }
}

function definitions(decl: Decl): Ident[] {
  switch (decl.kind) {
    case "Model":
    case "Block":
      return [
        decl.name,
        ...(decl.kind === "Block" ? decl.params.map((p) => p.name) : []),
        ...decl.body.flatMap((s) =>
          s.kind === "Output" ? s.names : s.kind === "Chain" ? [] : [s.name],
        ),
      ];
    case "Criterion":
      return [];
    case "Train":
      return decl.settings.map((s) => s.key);
  }
}

/** Calls each expression of `e`, outer ones first. */
export function walk(e: Expr, visit: (e: Expr) => void): void {
  visit(e);
  switch (e.kind) {
    case "Call":
      for (const a of e.args) walk(a.value, visit);
      return;
    case "Tuple":
      for (const i of e.items) walk(i, visit);
      return;
    case "Binary":
      walk(e.left, visit);
      walk(e.right, visit);
      return;
    case "Negate":
      walk(e.operand, visit);
      return;
    case "Chain":
      for (const s of e.steps) walk(s, visit);
      return;
    case "Labeled":
      walk(e.expr, visit);
      return;
    default:
      return;
  }
}

/** The name at `offset`, with its role. */
export function findAt(ast: NetFile, offset: number): Found | undefined {
  const decl = declAt(ast, offset);
  if (!decl) return undefined;
  const defined = definitions(decl).find((i) => touches(i.range, offset));
  if (defined) return { role: "definition", ident: defined, decl };
  let found: Found | undefined;
  for (const root of declExprs(decl)) {
    walk(root, (e) => {
      if (e.kind === "Name" && touches(e.range, offset)) {
        found = { role: "ref", ident: { name: e.name, range: e.range }, decl };
      } else if (e.kind === "Call") {
        if (touches(e.callee.range, offset))
          found = { role: "ref", ident: e.callee, decl, call: e };
        const arg = e.args.find((a) => a.name && touches(a.name.range, offset));
        if (arg?.name) found = { role: "argName", ident: arg.name, decl, call: e };
      } else if (e.kind === "Labeled" && touches(e.label.range, offset)) {
        found = { role: "label", ident: e.label, decl, step: e };
      }
    });
  }
  return found;
}

/** The block declared under `name`, if any. */
export function blockNamed(ast: NetFile, name: string): BlockDecl | undefined {
  return ast.decls.find((d): d is BlockDecl => d.kind === "Block" && d.name.name === name);
}

/** The names a body defines (inputs, bindings, block parameters, `in`), with where. */
export function valuesOf(decl: ModelDecl | BlockDecl): Ident[] {
  const own = decl.body.flatMap((s) => (s.kind === "Input" || s.kind === "Bind" ? [s.name] : []));
  if (decl.kind === "Model") return own;
  return [...decl.params.map((p) => p.name), { name: "in", range: decl.name.range }, ...own];
}

/** The model's node made by the source at `offset`: the innermost layer there, not in a block. */
export function nodeAt(model: ModelIR, offset: number): IRNode | undefined {
  let best: IRNode | undefined;
  for (const n of model.nodes) {
    if (n.site || n.op === "Input" || !touches(n.range, offset)) continue;
    if (!best || n.range.end - n.range.pos < best.range.end - best.range.pos) best = n;
  }
  return best;
}

/** A layer's parameters, frozen ones too; not its buffers (batch-norm running statistics). */
export const parameterCount = (node: IRNode): number =>
  node.params
    .filter((p) => p.trainable || p.frozen)
    .reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
