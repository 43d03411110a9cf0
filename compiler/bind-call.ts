// A setting whose value is a call of a catalog entry (`optimizer = SGD(lr=0.1)`, `schedule =
// StepLR(5)`, each step of `augment = [RandomCrop(28, padding=4), RandomHorizontalFlip]`), bound
// against that entry's signature.
import type { Expr, Span } from "../grammar/ast.js";
import { bindArgs, type BoundArgs } from "./bind-args.js";
import type { ArgSpec } from "./catalog/types.js";
import { diagnostic, type Diagnostic } from "./diagnostics.js";
import { suggest } from "./suggest.js";
import { quiet, type EvalContext } from "./values.js";

export interface CallSetting {
  name: string;
  doc: string;
  catalog: readonly { name: string; args: ArgSpec[] }[];
  /** What a value that is not a call is told it should be; by default the calls (`A(...) or B(...)`). */
  expected?: string;
  /** `known` lists the names (`A, B and C`), `expected` the calls (`A(...) or B(...)`). */
  unknown(
    name: string,
    range: Span,
    names: { known: string; expected: string },
    suggestion?: string,
  ): Diagnostic;
}

/** `A, B and C` (or `A, B or C`). */
export const listed = (names: readonly string[], conjunction = "and") =>
  names.length === 1
    ? names[0]!
    : `${names.slice(0, -1).join(", ")} ${conjunction} ${names[names.length - 1]}`;

export interface BoundCall {
  name: string;
  /** In the signature's order, whatever the call's: how the layout and `netc train` show them. */
  args: BoundArgs["args"];
  valueRanges: BoundArgs["valueRanges"];
}

/** Binds `Adam(lr=0.01)` (or a bare `Adam`) to its catalog signature, or reports why not. */
export function bindCall(setting: CallSetting, v: Expr, ctx: EvalContext): BoundCall | undefined {
  if (v.kind === "Missing") return undefined; // a syntax error, already reported
  const names = setting.catalog.map((c) => c.name);
  const calls = listed(
    names.map((n) => `${n}(...)`),
    "or",
  );
  const callee =
    v.kind === "Call" ? v.callee : v.kind === "Name" ? { name: v.name, range: v.range } : undefined;
  if (!callee) {
    const got = v.kind === "Number" || v.kind === "Bool" ? String(v.value) : "a value";
    const expected = setting.expected ?? calls;
    ctx.report(diagnostic("argument-type", v.range, { name: setting.name, expected, got }));
    return undefined;
  }
  const def = setting.catalog.find((c) => c.name === callee.name);
  if (!def) {
    const suggestion = suggest(callee.name, names);
    const known = listed(names);
    ctx.report(setting.unknown(callee.name, callee.range, { known, expected: calls }, suggestion));
    return undefined;
  }
  const bound = bindArgs(
    def.name,
    def.args,
    v.kind === "Call" ? v.args : [],
    v.kind === "Call" ? v.argsRange : v.range,
    v.kind === "Call" && v.recovered ? quiet(ctx) : ctx,
  );
  if (!bound) return undefined;
  const args = Object.fromEntries(def.args.map((a) => [a.name, bound.args[a.name]]));
  return { name: def.name, args, valueRanges: bound.valueRanges };
}
