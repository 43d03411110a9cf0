// Hover: what a layer makes (shape, parameters, FLOPs), what a block use expands to, and docs.
import type { Hover } from "vscode-languageserver";
import { formatSignature } from "../../compiler/bind-args.js";
import { criterionByName, layers } from "../../compiler/catalog/index.js";
import { formatShape } from "../../compiler/diagnostics.js";
import type { IRNode, ModelIR } from "../../compiler/ir.js";
import { freezeSetting, labelOf } from "../../compiler/freeze.js";
import { trainCallee, trainSettingDocs } from "../../compiler/train.js";
import type { BlockDecl, ModelDecl, Span } from "../../grammar/ast.js";
import { formatCount } from "../../compiler/units.js";
import {
  blockNamed,
  findAt,
  modelOf,
  nodeAt,
  touches,
  parameterCount,
  type Analysis,
  type Found,
} from "./analysis.js";
import { toRange } from "./diagnostics.js";

export function hover(analysis: Analysis, offset: number): Hover | null {
  const found = findAt(analysis.result.ast, offset);
  if (!found) return null;
  const markdown = describe(analysis, found, offset);
  if (!markdown) return null;
  return {
    contents: { kind: "markdown", value: markdown },
    range: toRange(analysis.lines, found.ident.range),
  };
}

function describe(analysis: Analysis, found: Found, offset: number): string | undefined {
  const { decl, ident } = found;
  if (found.role === "argName") {
    const specs =
      layers.get(found.call.callee.name)?.args ??
      trainCallee(found.call.callee.name)?.args ??
      criterionByName.get(found.call.callee.name)?.options;
    const spec = specs?.find((s) => s.name === ident.name);
    return spec && `\`${ident.name}\`: ${spec.doc}`;
  }
  if (decl.kind === "Criterion") {
    const def = criterionByName.get(ident.name);
    if (def) return `**${def.name}** criterion\n\n${def.summary}`;
    const model = modelOf(analysis, decl);
    const output = model?.outputs.find((o) => o.name === ident.name);
    const node = output && model!.nodes.find((n) => n.id === output.node);
    return node && `output \`${ident.name}\`: \`${formatShape(node.shape)}\``;
  }
  if (decl.kind === "Train") {
    const callee = trainCallee(ident.name);
    if (callee) return signatureBlock(formatSignature(callee.name, callee.args), callee.summary);
    const setting = trainSettingDocs.find((s) => s.name === ident.name);
    if (found.role === "definition") return setting && `\`${setting.name}\`: ${setting.doc}`;
    const inFreeze = decl.settings.some(
      (s) => s.key.name === freezeSetting.name && touches(s.value.range, offset),
    );
    const frozen = modelOf(analysis, decl)?.nodes.filter((n) => labelOf(n.name) === ident.name);
    if (!inFreeze || !frozen?.length) return undefined;
    const params = frozen.reduce((sum, n) => sum + parameterCount(n), 0);
    const layers = frozen.map((n) => `\`${n.name}\` (${n.op})`).join(", ");
    return `frozen: ${layers} · ${formatCount(params)} parameter${params === 1 ? "" : "s"} not trained`;
  }
  const model = decl.kind === "Model" ? modelOf(analysis, decl) : undefined;
  const layerName =
    found.role === "label"
      ? found.step.expr.kind === "Call"
        ? found.step.expr.callee.name
        : found.step.expr.kind === "Name"
          ? found.step.expr.name
          : ""
      : ident.name;
  const def = found.role === "definition" ? undefined : layers.get(layerName);
  if (def) {
    const head = signatureBlock(formatSignature(def.name, def.args), def.summary);
    const made = decl.kind === "Model" ? model && nodeAt(model, offset) : undefined;
    if (made) {
      // A repeated layer (`Linear(64) * 3`) made one node per repetition, all from this source.
      const all = model!.nodes.filter((n) => !n.site && sameSpan(n.range, made.range));
      return `${head}\n\n---\n\n${all.map(nodeLine).join("\n\n")}`;
    }
    const uses = usesInBlocks(analysis, offset, def.name);
    return uses.length > 0 ? `${head}\n\n---\n\n${uses.join("\n\n")}` : head;
  }
  const block = found.role === "ref" ? blockNamed(analysis.result.ast, layerName) : undefined;
  if (block) return blockUse(block, model, offset);
  if (model && decl.kind === "Model") {
    const value = valueShape(model, decl, ident.name);
    if (value) return `value \`${ident.name}\`: \`${formatShape(value)}\``;
  }
  return undefined;
}

const signatureBlock = (signature: string, summary: string): string =>
  "```net\n" + signature + "\n```\n\n" + summary;

function nodeLine(n: IRNode): string {
  const params = parameterCount(n);
  const frozen = n.params.some((p) => p.frozen) ? " (frozen)" : "";
  return [
    `\`${n.name}\` → \`${formatShape(n.shape)}\``,
    `${formatCount(params)} parameter${params === 1 ? "" : "s"}${frozen}`,
    `${formatCount(n.flops)} FLOPs per sample`,
  ].join(" · ");
}

/** A layer inside a block: its shapes at every use of the block. */
function usesInBlocks(analysis: Analysis, offset: number, op: string): string[] {
  return analysis.result.models.flatMap((m) =>
    m.nodes
      .filter((n) => n.site && n.op === op && touches(n.range, offset))
      .map((n) => `in ${m.name}: ${nodeLine(n)}`),
  );
}

function blockUse(block: BlockDecl, model: ModelIR | undefined, offset: number): string {
  const names = block.params.map((p) => p.name.name).join(", ");
  const head = "```net\nblock " + block.name.name + (names ? `(${names})` : "") + "\n```";
  const use = model?.terms
    .filter((t) => touches(t.range, offset))
    .sort((a, b) => a.range.end - a.range.pos - (b.range.end - b.range.pos))[0];
  if (!model || !use) return head;
  // Within: a repeated block (`Stage(16) * 2`) has a use site per repetition inside the term.
  const inner = model.nodes.filter((n) => n.site && within(n.site.range, use.range));
  const out = model.nodes.find((n) => n.id === use.node);
  const rows = inner.map((n) => `| \`${n.name}\` | ${n.op} | \`${formatShape(n.shape)}\` |`);
  const params = inner.reduce((a, n) => a + parameterCount(n), 0);
  const flops = inner.reduce((a, n) => a + n.flops, 0);
  return [
    head,
    `→ \`${out ? formatShape(out.shape) : "?"}\` · ${formatCount(params)} parameters · ${formatCount(flops)} FLOPs per sample`,
    `Expands to:\n\n| name | layer | shape |\n| --- | --- | --- |\n${rows.join("\n")}`,
  ].join("\n\n");
}

const sameSpan = (a: Span, b: Span): boolean => a.pos === b.pos && a.end === b.end;
const within = (a: Span, b: Span): boolean => b.pos <= a.pos && a.end <= b.end;

/** The shape of a named value of the model: an input, or a binding (its chain's last term). */
function valueShape(model: ModelIR, decl: ModelDecl, name: string): readonly number[] | undefined {
  const input = model.inputs.find((i) => i.name === name);
  if (input) return model.nodes.find((n) => n.id === input.node)?.shape;
  const bind = decl.body.find((s) => s.kind === "Bind" && s.name.name === name);
  if (!bind || bind.kind !== "Bind") return undefined;
  const last =
    bind.value.kind === "Chain" ? bind.value.steps[bind.value.steps.length - 1]! : bind.value;
  const term = model.terms.find((t) => sameSpan(t.range, last.range));
  return term && model.nodes.find((n) => n.id === term.node)?.shape;
}
