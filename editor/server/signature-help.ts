// Signature help: the signature of the layer, block, optimizer or schedule whose arguments are
// being written.
import type { SignatureHelp, SignatureInformation } from "vscode-languageserver";
import { signatureArg } from "../../compiler/bind-args.js";
import { layers } from "../../compiler/catalog/index.js";
import type { ArgSpec } from "../../compiler/catalog/types.js";
import { trainCallee } from "../../compiler/train.js";
import { blockNamed, declAt, type Analysis } from "./analysis.js";
import { callContext } from "./call-context.js";

interface Param {
  label: string;
  doc: string;
}

export function signatureHelp(analysis: Analysis, offset: number): SignatureHelp | null {
  const decl = declAt(analysis.result.ast, offset);
  if (!decl) return null;
  const call = callContext(analysis.text, offset, decl.range.pos);
  if (!call) return null;
  const def = layers.get(call.callee);
  const optimizer = trainCallee(call.callee);
  const block = blockNamed(analysis.result.ast, call.callee);
  const specs = def?.args ?? optimizer?.args;
  const params: Param[] | undefined = specs
    ? specs.map((s) => ({ label: specLabel(s, specs), doc: s.doc }))
    : block?.params.map((p) => ({
        label: p.name.name,
        doc: `parameter of block ${block.name.name}`,
      }));
  if (!params) return null;
  const summary = def?.summary ?? optimizer?.summary ?? `block ${call.callee}`;
  const signature = makeSignature(call.callee, params, summary);
  // A named argument is active by its name; a positional one by its place among the positional.
  const named = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(call.argText)?.[1];
  const names = specs?.map((s) => s.name) ?? params.map((p) => p.label);
  // Positional arguments fill the positional parameters in order; a variadic one takes the rest.
  const positional = specs ? specs.filter((s) => !s.namedOnly).map((s) => s.name) : names;
  const variadic = specs?.find((s) => s.variadic)?.name;
  const index = Math.min(call.argIndex, positional.length - 1);
  const slot = variadic && positional.indexOf(variadic) <= index ? variadic : positional[index];
  const active = names.indexOf(named ?? slot ?? "");
  return {
    signatures: [signature],
    activeSignature: 0,
    ...(active >= 0 ? { activeParameter: active } : {}),
  };
}

/** `kernel`, `stride=1`, `stride=kernel`, `in=…` for one that may be left out: as the signature reads. */
function specLabel(s: ArgSpec, specs: readonly ArgSpec[]): string {
  return s.optional && s.default === undefined ? `${s.name}=…` : signatureArg(s, specs);
}

function makeSignature(name: string, params: Param[], summary: string): SignatureInformation {
  let label = `${name}(`;
  const parameters = params.map((p, i) => {
    if (i > 0) label += ", ";
    const start = label.length;
    label += p.label;
    return { label: [start, label.length] as [number, number], documentation: p.doc };
  });
  label += ")";
  return { label, documentation: summary, parameters };
}
