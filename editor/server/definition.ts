// Go to definition: a block's declaration, a value's binding or input, an output's binding, the
// layer a `freeze` label names.
import type { Location } from "vscode-languageserver";
import type { Ident } from "../../grammar/ast.js";
import {
  blockNamed,
  findAt,
  labelIn,
  modelDeclBefore,
  valuesOf,
  type Analysis,
} from "./analysis.js";
import { toRange } from "./diagnostics.js";

export function definition(analysis: Analysis, offset: number): Location | null {
  const target = definitionOf(analysis, offset);
  return target ? { uri: analysis.uri, range: toRange(analysis.lines, target.range) } : null;
}

function definitionOf(analysis: Analysis, offset: number): Ident | undefined {
  const { ast } = analysis.result;
  const found = findAt(ast, offset);
  if (!found) return undefined;
  const { decl, ident } = found;
  if (found.role === "label") return ident;
  if (decl.kind === "Model" || decl.kind === "Block") {
    if (found.role === "ref" || found.role === "definition") {
      const value = valuesOf(decl).find((v) => v.name === ident.name);
      // `output y` names a value: its definition is the binding.
      if (value && value !== ident) return value;
    }
    if (found.role === "ref") return blockNamed(ast, ident.name)?.name;
    return undefined;
  }
  if (found.role !== "ref") return undefined;
  const model = modelDeclBefore(ast, decl);
  if (!model) return undefined;
  // A criterion's argument names an output of the model just before it.
  if (decl.kind === "Criterion") return valuesOf(model).find((v) => v.name === ident.name);
  // A name in a train block's `freeze` labels one of its layers or block uses.
  if (decl.kind === "Train") return labelIn(model, ident.name);
  return undefined;
}
