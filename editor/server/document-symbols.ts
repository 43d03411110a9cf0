// Document symbols: models and blocks, with their inputs, bindings and labelled layers inside.
import { SymbolKind, type DocumentSymbol } from "vscode-languageserver";
import { formatShape } from "../../compiler/diagnostics.js";
import type { BlockDecl, Decl, ModelDecl } from "../../grammar/ast.js";
import { modelOf, stmtExprs, walk, type Analysis } from "./analysis.js";
import { toRange } from "./diagnostics.js";

export function documentSymbols(analysis: Analysis): DocumentSymbol[] {
  return analysis.result.ast.decls.map((d) => declSymbol(analysis, d));
}

function declSymbol(analysis: Analysis, decl: Decl): DocumentSymbol {
  const range = toRange(analysis.lines, decl.range);
  if (decl.kind === "Criterion" || decl.kind === "Train") {
    const name = decl.kind === "Criterion" ? "criterion" : "train";
    const selection = { pos: decl.range.pos, end: decl.range.pos + name.length };
    return {
      name,
      kind: SymbolKind.Event,
      range,
      selectionRange: toRange(analysis.lines, selection),
    };
  }
  return {
    name: decl.name.name,
    detail: decl.kind === "Model" ? "model" : "block",
    kind: decl.kind === "Model" ? SymbolKind.Class : SymbolKind.Function,
    range,
    selectionRange: toRange(analysis.lines, decl.name.range),
    children: bodySymbols(analysis, decl),
  };
}

function bodySymbols(analysis: Analysis, decl: ModelDecl | BlockDecl): DocumentSymbol[] {
  const model = decl.kind === "Model" ? modelOf(analysis, decl) : undefined;
  const shapeAt = (pos: number, end: number): string | undefined => {
    const node = model?.nodes.find((n) => !n.site && n.range.pos === pos && n.range.end === end);
    return node && formatShape(node.shape);
  };
  const out: DocumentSymbol[] = [];
  for (const stmt of decl.body) {
    if (stmt.kind === "Input" || stmt.kind === "Bind") {
      out.push({
        name: stmt.name.name,
        detail: stmt.kind === "Input" ? "input" : "value",
        kind: SymbolKind.Variable,
        range: toRange(analysis.lines, stmt.range),
        selectionRange: toRange(analysis.lines, stmt.name.range),
      });
    }
    for (const root of stmtExprs(stmt)) {
      walk(root, (e) => {
        if (e.kind !== "Labeled") return;
        const shape = shapeAt(e.range.pos, e.range.end);
        out.push({
          name: e.label.name,
          ...(shape ? { detail: shape } : {}),
          kind: SymbolKind.Field,
          range: toRange(analysis.lines, e.range),
          selectionRange: toRange(analysis.lines, e.label.range),
        });
      });
    }
  }
  return out;
}
