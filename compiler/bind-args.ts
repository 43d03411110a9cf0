// Binds a call's arguments to a signature: positional then named, defaults, types and ranges.
import type { Arg, Expr, Span } from "../grammar/ast.js";
import type { ArgSpec, ArgValue, Args } from "./catalog/types.js";
import { diagnostic, formatShape, type Diagnostic } from "./diagnostics.js";
import { argumentAliases } from "./pytorch-names.js";
import { suggest } from "./suggest.js";
import { describeValue, evaluate, type EvalContext, type Value } from "./values.js";

export interface BoundArgs {
  args: Args;
  argRanges: Record<string, Span>;
  /** The value alone, without `name=`: what a fix replaces. */
  valueRanges: Record<string, Span>;
}

/** A stand-in value for each argument, recognisable again in what a derived default returns. */
const PROBE_BASE = 2001;

/**
 * Which argument a function default copies (pooling's `stride` defaults to `kernel`), found by
 * running the default on stand-in values: the signature then says so instead of hiding it.
 */
export function derivedDefault(spec: ArgSpec, specs: readonly ArgSpec[]): string | undefined {
  if (typeof spec.default !== "function") return undefined;
  const args: Record<string, ArgValue> = {};
  specs.forEach((s, i) => (args[s.name] = PROBE_BASE + i));
  const value = spec.default(args);
  return specs.find((s) => args[s.name] === value)?.name;
}

export function formatArgValue(v: ArgValue): string {
  return typeof v === "object" ? formatShape(v) : String(v);
}

/** `kernel`, `stride=1`, `stride=kernel`, `features?` (inferred when left out), `dims...`. */
export function signatureArg(spec: ArgSpec, specs: readonly ArgSpec[]): string {
  if (spec.variadic) return `${spec.name}...`;
  const derived = derivedDefault(spec, specs);
  if (derived) return `${spec.name}=${derived}`;
  if (spec.default !== undefined && typeof spec.default !== "function")
    return `${spec.name}=${formatArgValue(spec.default)}`;
  return spec.optional ? `${spec.name}?` : spec.name;
}

/**
 * `SpatialMaxPooling(kernel, stride=kernel, pad=0)`, every default shown; named-only arguments
 * are left out. With `inputSize`, the form that states it: `Linear(in -> out, bias=true)`.
 */
export function formatSignature(
  name: string,
  specs: readonly ArgSpec[],
  inputSize?: string,
): string {
  if (specs.length === 0) return name;
  const positional = specs.filter((s) => !s.namedOnly).map((s) => signatureArg(s, specs));
  if (inputSize) positional[0] = `${inputSize} -> ${positional[0]}`;
  return `${name}(${positional.join(", ")})`;
}

const expectedType: Record<ArgSpec["type"], string> = {
  int: "an integer",
  float: "a number",
  bool: "true or false",
  size2: "an integer or [height, width]",
  ints: "integers",
  floats: "a list of numbers",
};

const isNumber = (v: Value): v is { kind: "int" | "float"; value: number } =>
  v.kind === "int" || v.kind === "float";

/** Converts a value to the spec's type, or undefined when it has the wrong type. */
function convert(spec: ArgSpec, v: Value): ArgValue | undefined {
  switch (spec.type) {
    case "int":
      return v.kind === "int" ? v.value : undefined;
    case "float":
      return isNumber(v) ? v.value : undefined;
    case "bool":
      return v.kind === "bool" ? v.value : undefined;
    case "size2":
      if (v.kind === "int") return v.value;
      if (v.kind === "tuple" && v.items.length === 2 && v.items.every((i) => i.kind === "int")) {
        return v.items.map((i) => (i as { value: number }).value);
      }
      return undefined;
    case "floats":
      return v.kind === "tuple" && v.items.every(isNumber)
        ? v.items.map((i) => (i as { value: number }).value)
        : undefined;
    case "ints":
      // A variadic argument takes its integers one by one (`View(16, 25)`), another as a list.
      if (v.kind === "int") return [v.value];
      return !spec.variadic && v.kind === "tuple" && v.items.every((i) => i.kind === "int")
        ? v.items.map((i) => (i as { value: number }).value)
        : undefined;
  }
}

export function outOfRange(spec: ArgSpec, value: ArgValue): string | undefined {
  const numbers = typeof value === "number" ? [value] : Array.isArray(value) ? value : [];
  if (spec.min !== undefined && numbers.some((n) => n < spec.min!)) return `at least ${spec.min}`;
  if (spec.above !== undefined && numbers.some((n) => n <= spec.above!))
    return `more than ${spec.above}`;
  if (spec.max !== undefined && numbers.some((n) => n > spec.max!)) return `at most ${spec.max}`;
  if (spec.below !== undefined && numbers.some((n) => n >= spec.below!))
    return `less than ${spec.below}`;
  return undefined;
}

/** Evaluates one argument and checks its type and range; undefined (reported) when wrong. */
export function bindValue(
  spec: ArgSpec,
  expr: Expr,
  range: Span,
  ctx: EvalContext,
): ArgValue | undefined {
  // `bias=yes` or `bias=True`: a word meant as a truth value, not a value nothing defines.
  if (spec.type === "bool" && expr.kind === "Name" && !ctx.env.has(expr.name)) {
    const got = `'${expr.name}'`;
    const expected = expectedType.bool;
    ctx.report(diagnostic("argument-type", range, { name: spec.name, expected, got }));
    return undefined;
  }
  const v = evaluate(expr, ctx);
  if (v === undefined) return undefined;
  const value = convert(spec, v);
  if (value === undefined) {
    ctx.report(
      diagnostic("argument-type", range, {
        name: spec.name,
        expected: expectedType[spec.type],
        got: describeValue(v),
      }),
    );
    return undefined;
  }
  const bound = outOfRange(spec, value);
  if (bound) {
    ctx.report(
      diagnostic("argument-range", range, { name: spec.name, value: describeValue(v), bound }),
    );
    return undefined;
  }
  return value;
}

interface Pending {
  spec: ArgSpec;
  expr: Expr;
  range: Span;
}

/**
 * Binds `callArgs` to `specs`. Every problem is reported; the result is undefined when
 * any argument is wrong or unknown (so downstream shapes stay unknown, without cascades).
 */
export function bindArgs(
  layer: string,
  specs: readonly ArgSpec[],
  callArgs: readonly Arg[],
  callRange: Span,
  ctx: EvalContext,
): BoundArgs | undefined {
  const report = (d: Diagnostic) => {
    ctx.report(d);
    ok = false;
  };
  let ok = true;
  const positional = specs.filter((s) => !s.namedOnly);
  const given = new Map<string, Pending[]>();
  let next = 0;
  let seenNamed = false;
  // A missing argument is not reported again when an unknown name looks like a typo of it,
  // or when a misplaced positional argument probably is it.
  let misplaced = false;
  for (const arg of callArgs) {
    if (arg.name) {
      seenNamed = true;
      const spec = specs.find((s) => s.name === arg.name!.name);
      if (!spec) {
        const names = specs.map((s) => s.name);
        const suggestion = suggest(arg.name.name, names, argumentAliases(names));
        const unknown = diagnostic("unknown-argument", arg.name.range, {
          layer,
          name: arg.name.name,
          suggestion,
        });
        const meant = specs.find((s) => s.name === suggestion);
        if (meant && !given.has(meant.name)) {
          // `kernal=5`: an error, but bound as `kernel` so the shapes after it stay known.
          ctx.report(unknown);
          given.set(meant.name, [{ spec: meant, expr: arg.value, range: arg.range }]);
        } else {
          report(unknown);
        }
      } else if (given.has(spec.name)) {
        report(diagnostic("duplicate-argument", arg.name.range, { name: spec.name }));
      } else {
        given.set(spec.name, [{ spec, expr: arg.value, range: arg.range }]);
      }
      continue;
    }
    if (seenNamed) {
      misplaced = true;
      report(diagnostic("positional-after-named", arg.range, {}));
      continue;
    }
    const spec = positional[next];
    if (!spec) {
      const count = callArgs.filter((a) => !a.name).length;
      report(diagnostic("too-many-arguments", arg.range, { layer, count, max: positional.length }));
      break;
    }
    if (!spec.variadic) next++;
    const list = given.get(spec.name) ?? [];
    list.push({ spec, expr: arg.value, range: arg.range });
    given.set(spec.name, list);
  }

  const args: Record<string, ArgValue | undefined> = {};
  const argRanges: Record<string, Span> = {};
  const valueRanges: Record<string, Span> = {};
  const setValue = (spec: ArgSpec, expr: Expr, range: Span): ArgValue | undefined => {
    const value = bindValue(spec, expr, range, { ...ctx, report });
    if (value === undefined) ok = false;
    return value;
  };

  for (const [name, list] of given) {
    const spec = list[0]!.spec;
    argRanges[name] = { pos: list[0]!.range.pos, end: list[list.length - 1]!.range.end };
    valueRanges[name] = {
      pos: list[0]!.expr.range.pos,
      end: list[list.length - 1]!.expr.range.end,
    };
    if (spec.variadic) {
      const items = list.map((p) => setValue(spec, p.expr, p.expr.range));
      args[name] = items.every((i) => i !== undefined) ? (items.flat() as number[]) : undefined;
      continue;
    }
    const { expr, range } = list[0]!;
    // `Linear(400 -> 120)`: the number before the arrow is the input size.
    if (spec.inputSize && expr.kind === "Chain" && expr.steps.length === 2) {
      const inSpec = specs.find((s) => s.name === spec.inputSize)!;
      args[inSpec.name] = setValue(inSpec, expr.steps[0]!, expr.steps[0]!.range);
      argRanges[inSpec.name] = expr.steps[0]!.range;
      valueRanges[inSpec.name] = expr.steps[0]!.range;
      valueRanges[name] = expr.steps[1]!.range;
      args[name] = setValue(spec, expr.steps[1]!, expr.steps[1]!.range);
    } else {
      args[name] = setValue(spec, expr, range);
    }
  }

  const missing: string[] = [];
  for (const spec of specs) {
    if (spec.name in args) continue;
    if (spec.variadic) args[spec.name] = [];
    else if (spec.default !== undefined) continue;
    else if (!spec.optional && !misplaced) missing.push(spec.name);
  }
  // One error for all of them (`SpatialConvolution` alone lacks out and kernel).
  if (missing.length > 0) {
    const signature = formatSignature(layer, specs);
    report(diagnostic("missing-argument", callRange, { layer, names: missing, signature }));
  }
  // Defaults last: a default may derive from other arguments (pooling stride = kernel).
  for (const spec of specs) {
    if (!(spec.name in args) && spec.default !== undefined) {
      args[spec.name] = typeof spec.default === "function" ? spec.default(args) : spec.default;
    }
  }
  return ok ? { args, argRanges, valueRanges } : undefined;
}
