// The criterion line: a weighted sum of criteria, each bound to a model output and its target.
import type { CriterionDecl, Expr } from "../grammar/ast.js";
import { bindArgs } from "./bind-args.js";
import { criterionAliases, criterionByName } from "./catalog/index.js";
import { diagnostic, type Diagnostic, type Fix } from "./diagnostics.js";
import type { NamedNode } from "./graph.js";
import type { CriterionTerm, IRNode } from "./ir.js";
import { suggest } from "./suggest.js";
import { evaluate } from "./values.js";

interface ModelView {
  name: string;
  /** The outputs whose shape is known. */
  outputs: readonly NamedNode[];
  /** Every declared output, also those unknown after an earlier error. */
  outputNames: readonly string[];
  nodes: ReadonlyMap<number, IRNode>;
  /** The source, to check that a quick fix's edit removes only what it means to. */
  text: string;
}

/** `a + b + c` → [a, b, c]; anything else is one term. */
function terms(e: Expr): Expr[] {
  return e.kind === "Binary" && e.op === "+" ? [...terms(e.left), ...terms(e.right)] : [e];
}

export function checkCriterion(
  decl: CriterionDecl,
  model: ModelView,
  report: (d: Diagnostic) => void,
): CriterionTerm[] {
  const out: CriterionTerm[] = [];
  if (model.outputNames.length === 0) return out; // no body to speak of: already reported
  const noNames = { env: new Map(), report, unknownName: () => undefined };
  for (const term of terms(decl.expr)) {
    if (term.kind === "Missing") continue;
    let weight = 1;
    let head: Expr = term;
    if (term.kind === "Binary" && term.op === "*") {
      const numberFirst = term.left.kind !== "Name" && term.left.kind !== "Call";
      const [w, c] = numberFirst ? [term.left, term.right] : [term.right, term.left];
      const v = evaluate(w, noNames);
      if (v === undefined || (v.kind !== "int" && v.kind !== "float") || v.value <= 0) {
        report(
          diagnostic("invalid-criterion", w.range, {
            detail: "a weight must be a positive number",
          }),
        );
        continue;
      }
      weight = v.value;
      head = c;
    }
    if (head.kind !== "Name" && head.kind !== "Call") {
      const detail = "expected a criterion such as NLL, 0.5 * MSE(boxes) or a sum of them";
      report(diagnostic("invalid-criterion", head.range, { detail }));
      continue;
    }
    const name = head.kind === "Name" ? head.name : head.callee.name;
    const nameRange = head.kind === "Name" ? head.range : head.callee.range;
    const def = criterionByName.get(name);
    if (!def) {
      const suggestion = suggest(name, criterionByName.keys(), criterionAliases);
      report(diagnostic("unknown-criterion", nameRange, { name, suggestion }));
      continue;
    }
    const all = head.kind === "Call" ? head.args : [];
    // The output comes first, by its bare name; the options follow by name.
    const args = all.filter((a) => !a.name);
    if (args.length > 1 || (args[0] && args[0].value.kind !== "Name")) {
      report(
        diagnostic("invalid-criterion", head.range, {
          detail: `${name} takes one output name, as in ${name}(out)`,
        }),
      );
      continue;
    }
    const optionArgs = all.filter((a) => a.name);
    const options = bindArgs(name, def.options, optionArgs, head.range, noNames)?.args;
    if (!options) continue;
    const outputNames = model.outputNames.join(", ");
    let output: NamedNode | undefined;
    const named = args[0]?.value;
    if (named?.kind === "Name") {
      output = model.outputs.find((o) => o.name === named.name);
      if (!output && model.outputNames.includes(named.name)) continue; // unknown after an error
      if (!output) {
        const suggestion = suggest(named.name, model.outputNames);
        report(
          diagnostic("unknown-output", named.range, {
            name: named.name,
            model: model.name,
            // A plain stack's implicit `output` cannot be named (`output` is a keyword).
            outputs: outputNames === "output" ? "" : outputNames,
            suggestion,
          }),
        );
        continue;
      }
    } else if (model.outputNames.length > 1) {
      report(
        diagnostic("criterion-needs-output", head.range, { criterion: name, outputs: outputNames }),
      );
      continue;
    } else {
      output = model.outputs[0];
    }
    const node = output && model.nodes.get(output.node);
    if (!output || !node) continue; // unknown after an earlier error
    const target = def.target(node.shape);
    if ("error" in target) {
      report(diagnostic("criterion-shape", head.range, { criterion: name, detail: target.error }));
      continue;
    }
    const optionError = def.checkOptions?.(options, node.shape);
    if (optionError) {
      report(diagnostic("criterion-shape", head.range, { criterion: name, detail: optionError }));
      continue;
    }
    if (def.head && !def.head.accepts(node.op)) {
      // `output` is a keyword, so an output named so is a plain stack's implicit one.
      const what = output.name === "output" ? "the model's output" : `'${output.name}'`;
      // After the producer (or the block use that makes it), the output gets the missing head.
      const after = (node.site?.range ?? node.range).end;
      const fixes =
        def.head.missing && node.op !== "Input"
          ? [
              {
                title: `Insert ${def.head.missing} after ${node.op}`,
                edits: [{ range: { pos: after, end: after }, newText: ` -> ${def.head.missing}` }],
              },
            ]
          : def.head.superfluous === node.op
            ? removal(node, model, name)
            : [];
      const extra = fixes.length > 0 ? { fixes } : {};
      report(diagnostic(def.head.lint, head.range, { output: what, from: node.op }, extra));
    }
    out.push({
      criterion: name,
      weight,
      output: output.name,
      node: node.id,
      target: target.shape,
      targetKind: target.kind,
      args: options,
      range: term.range,
    });
  }
  return out;
}

/**
 * Removes the layer that makes `node` (a Sigmoid before BCEWithLogits) where that is safe to do
 * in the text: the layer directly follows its input in one chain or stack (only `->` and space
 * between), is written in the model (not inside a block), and nothing else reads it.
 */
function removal(node: IRNode, model: ModelView, criterion: string): Fix[] {
  const input = model.nodes.get(node.inputs[0] ?? -1);
  const readByOthers = [...model.nodes.values()].some((n) => n.inputs.includes(node.id));
  if (!input || input.op === "Input" || node.site || readByOthers) return [];
  const from = (input.site?.range ?? input.range).end;
  if (from > node.range.pos || !/^\s*(->)?\s*$/.test(model.text.slice(from, node.range.pos))) {
    return [];
  }
  const edit = { range: { pos: from, end: node.range.end }, newText: "" };
  return [{ title: `Remove the ${node.op} (${criterion} applies it)`, edits: [edit] }];
}
