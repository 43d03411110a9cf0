// Completion: layers with their signatures, argument names, value, output and criterion names.
import { CompletionItemKind, type CompletionItem } from "vscode-languageserver";
import { formatSignature } from "../../compiler/bind-args.js";
import { criterionByName, criterionList, layerList, layers } from "../../compiler/catalog/index.js";
import type { ArgSpec, LayerDef } from "../../compiler/catalog/types.js";
import { catalogSettings, trainCallee, trainSettingDocs } from "../../compiler/train.js";
import { labelOf } from "../../compiler/freeze.js";
import type { ModelIR } from "../../compiler/ir.js";
import type { BlockDecl, Decl, ModelDecl } from "../../grammar/ast.js";
import { blockNamed, declAt, modelOf, valuesOf, type Analysis } from "./analysis.js";
import { callContext } from "./call-context.js";

export function completion(analysis: Analysis, offset: number): CompletionItem[] {
  const { text, result } = analysis;
  const decl = declAt(result.ast, offset);
  if (!decl) return keywords(["model", "block", "criterion", "train"]);
  const call = callContext(text, offset, decl.range.pos);
  const atArgName = call && /^\s*[A-Za-z_0-9]*$/.test(call.argText);
  if (call) {
    if (decl.kind === "Criterion") {
      if (!atArgName) return [];
      const options = criterionByName.get(call.callee)?.options ?? [];
      const unnamed = options.filter((s) => !call.named.includes(s.name));
      return [...outputNames(analysis, decl), ...unnamed.map(argNameItem)];
    }
    const def = layers.get(call.callee);
    const many = def?.inputs === "many";
    if (many && (decl.kind === "Model" || decl.kind === "Block")) {
      if (atArgName) return values(decl);
      return /->\s*[A-Za-z_0-9]*$/.test(call.argText) ? layerItems(analysis) : [];
    }
    if (!atArgName) return [];
    const block = blockNamed(result.ast, call.callee);
    const specs:
      (Pick<ArgSpec, "name" | "doc" | "namedOnly" | "variadic"> & { type?: string })[] | undefined =
      def?.args ??
      trainCallee(call.callee)?.args ??
      block?.params.map((p) => ({ name: p.name.name, doc: `parameter of block ${call.callee}` }));
    // The arguments before this one that have no name took the first positional parameters.
    const positionalGiven = call.argIndex - call.named.length;
    const taken = (specs ?? [])
      .filter((s) => !s.namedOnly && !s.variadic)
      .slice(0, Math.max(0, positionalGiven))
      .map((s) => s.name);
    return (specs ?? [])
      .filter((s) => !call.named.includes(s.name) && !taken.includes(s.name))
      .map(argNameItem);
  }
  const line = analysis.lines.lineText(analysis.lines.at(offset).line);
  const before = line.slice(0, analysis.lines.at(offset).column - 1);
  if (decl.kind === "Criterion") return criterionItems();
  if (decl.kind === "Train") {
    if (/^\s*freeze\s*=/.test(before)) return labelItems(modelOf(analysis, decl));
    const value = /^\s*([A-Za-z_0-9]+)\s*=\s*[A-Za-z_0-9]*$/.exec(before);
    if (value) {
      const catalog = catalogSettings.find((s) => s.name === value[1])?.catalog ?? [];
      return catalog.map((c) => ({
        label: c.name,
        kind: CompletionItemKind.Function,
        detail: formatSignature(c.name, c.args),
        documentation: trainCallee(c.name)!.summary,
      }));
    }
    return trainSettingDocs.map(({ name, doc }) => ({
      label: name,
      kind: CompletionItemKind.Property,
      documentation: doc,
    }));
  }
  if (/^\s*output\s/.test(before)) return values(decl);
  // After a repeat's `*`, its count: a number, or a parameter of the block.
  if (/\*\s*[A-Za-z_0-9]*$/.test(before)) {
    const params = decl.kind === "Block" ? decl.params : [];
    return params.map((p) => ({
      label: p.name.name,
      kind: CompletionItemKind.Variable,
      detail: "repeat count",
    }));
  }
  // After `->` or a label, only a layer can follow; elsewhere a value may start the chain.
  if (/(->|:)\s*[A-Za-z_0-9]*$/.test(before)) return layerItems(analysis);
  const statementStart = /^\s*[A-Za-z_0-9]*$/.test(before);
  return [
    ...layerItems(analysis),
    ...values(decl),
    ...(statementStart ? keywords(decl.kind === "Model" ? ["input", "output"] : ["output"]) : []),
  ];
}

/** The labels `freeze` can name: each labelled layer or block use of the model, once. */
function labelItems(model: ModelIR | undefined): CompletionItem[] {
  const kinds = new Map<string, string>();
  for (const n of model?.nodes ?? []) {
    const label = n.op === "Input" ? undefined : labelOf(n.name);
    if (label !== undefined && !kinds.has(label))
      kinds.set(label, label === n.name ? n.op : "block");
  }
  return [...kinds].map(([label, kind]) => ({
    label,
    kind: CompletionItemKind.Reference,
    detail: kind,
  }));
}

function keywords(words: string[]): CompletionItem[] {
  return words.map((w) => ({ label: w, kind: CompletionItemKind.Keyword }));
}

export function layerDocs(def: LayerDef): string {
  const args = def.args.map((a) => `- \`${a.name}\`: ${a.doc}`).join("\n");
  return `${def.summary}\n\nShape: ${def.shapeRule}${args ? `\n\n${args}` : ""}`;
}

function layerItems(analysis: Analysis): CompletionItem[] {
  const blocks = analysis.result.ast.decls.filter((d): d is BlockDecl => d.kind === "Block");
  return [
    ...layerList.map((def) => ({
      label: def.name,
      kind: CompletionItemKind.Class,
      detail: formatSignature(def.name, def.args),
      documentation: { kind: "markdown" as const, value: layerDocs(def) },
    })),
    ...blocks.map((b) => ({
      label: b.name.name,
      kind: CompletionItemKind.Function,
      detail: `block ${b.name.name}(${b.params.map((p) => p.name.name).join(", ")})`,
    })),
  ];
}

function values(decl: Decl): CompletionItem[] {
  if (decl.kind !== "Model" && decl.kind !== "Block") return [];
  return valuesOf(decl as ModelDecl | BlockDecl).map((v) => ({
    label: v.name,
    kind: CompletionItemKind.Variable,
    // Layers are what most lines start with: values sort after them.
    sortText: `~${v.name}`,
  }));
}

/** The outputs the model before the criterion lists: from the source, known even after errors. */
function outputNames(analysis: Analysis, decl: Decl): CompletionItem[] {
  const model = analysis.result.ast.decls
    .filter((d): d is ModelDecl => d.kind === "Model" && d.range.pos < decl.range.pos)
    .pop();
  return (model?.body ?? [])
    .flatMap((s) => (s.kind === "Output" ? s.names : []))
    .map((o) => ({ label: o.name, kind: CompletionItemKind.Variable, detail: "output" }));
}

function criterionItems(): CompletionItem[] {
  return criterionList.map((c) => ({
    label: c.name,
    kind: CompletionItemKind.Class,
    documentation: c.summary,
  }));
}

/** `name=` for an argument a call has not given yet. */
function argNameItem(s: Pick<ArgSpec, "name" | "doc"> & { type?: string }): CompletionItem {
  return {
    label: `${s.name}=`,
    kind: CompletionItemKind.Property,
    ...(s.type ? { detail: s.type } : {}),
    documentation: s.doc,
    insertText: `${s.name}=`,
  };
}
