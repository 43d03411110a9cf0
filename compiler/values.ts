// Compile-time values of expressions (sizes, rates, flags, tuples) and their evaluation.
import type { Expr, Span } from "../grammar/ast.js";
import { diagnostic, type Diagnostic } from "./diagnostics.js";

export type Value =
  | { kind: "int"; value: number }
  | { kind: "float"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "tuple"; items: Value[] };

/** A value bound to a name (block parameter), remembering where it was written. */
export interface Binding {
  value: Value | undefined; // undefined: unknown (an error was reported, or a block checked without use)
  range: Span;
}

export function describeValue(v: Value): string {
  switch (v.kind) {
    case "int":
    case "float":
      return v.kind === "float" && Number.isInteger(v.value) ? v.value.toFixed(1) : String(v.value);
    case "bool":
      return String(v.value);
    case "tuple":
      return `[${v.items.map(describeValue).join(", ")}]`;
  }
}

export interface EvalContext {
  env: ReadonlyMap<string, Binding>;
  report(d: Diagnostic): void;
  /** Describes a name that is not a parameter (a layer, a value) for the error message. */
  unknownName(name: string, range: Span): void;
}

/**
 * For the arguments of a call the parser recovered in (`Linear(10 -> ReLU` at the end of a
 * line): they end where the parser guessed, so they are bound without reporting, and the
 * syntax error stays the only error.
 */
export function quiet(ctx: EvalContext): EvalContext {
  return { ...ctx, report: () => undefined, unknownName: () => undefined };
}

function arithmetic(
  op: "+" | "-" | "*" | "/",
  a: Value,
  b: Value,
  range: Span,
  ctx: EvalContext,
): Value | undefined {
  if ((a.kind !== "int" && a.kind !== "float") || (b.kind !== "int" && b.kind !== "float")) {
    ctx.report(
      diagnostic("invalid-expression", range, {
        detail: `'${op}' needs numbers, got ${describeValue(a)} and ${describeValue(b)}`,
      }),
    );
    return undefined;
  }
  const isInt = a.kind === "int" && b.kind === "int";
  if (op === "/") {
    if (b.value === 0) {
      ctx.report(diagnostic("division-by-zero", range, {}));
      return undefined;
    }
    if (isInt && a.value % b.value !== 0) {
      ctx.report(diagnostic("inexact-division", range, { left: a.value, right: b.value }));
      return undefined;
    }
  }
  const value =
    op === "+"
      ? a.value + b.value
      : op === "-"
        ? a.value - b.value
        : op === "*"
          ? a.value * b.value
          : a.value / b.value;
  if (isInt && !Number.isSafeInteger(value)) {
    ctx.report(diagnostic("integer-too-large", range, { what: `${a.value} ${op} ${b.value}` }));
    return undefined;
  }
  return { kind: isInt ? "int" : "float", value };
}

/** Evaluates a constant expression; undefined when unknown (errors already reported). */
export function evaluate(expr: Expr, ctx: EvalContext): Value | undefined {
  switch (expr.kind) {
    case "Number":
      // Past 2^53 the literal was already rounded when it became a number: refuse it.
      if (expr.isInteger && !Number.isSafeInteger(expr.value)) {
        ctx.report(diagnostic("integer-too-large", expr.range, { what: "this integer" }));
        return undefined;
      }
      return { kind: expr.isInteger ? "int" : "float", value: expr.value };
    case "Bool":
      return { kind: "bool", value: expr.value };
    case "Name": {
      const bound = ctx.env.get(expr.name);
      if (bound) return bound.value;
      ctx.unknownName(expr.name, expr.range);
      return undefined;
    }
    case "Tuple": {
      const items = expr.items.map((e) => evaluate(e, ctx));
      return items.every((v): v is Value => v !== undefined) ? { kind: "tuple", items } : undefined;
    }
    case "Negate": {
      const v = evaluate(expr.operand, ctx);
      if (v === undefined) return undefined;
      if (v.kind === "int" || v.kind === "float")
        return { kind: v.kind, value: expr.count % 2 === 1 ? -v.value : v.value };
      ctx.report(
        diagnostic("invalid-expression", expr.range, {
          detail: `cannot negate ${describeValue(v)}`,
        }),
      );
      return undefined;
    }
    case "Binary": {
      const a = evaluate(expr.left, ctx);
      const b = evaluate(expr.right, ctx);
      return a && b ? arithmetic(expr.op, a, b, expr.range, ctx) : undefined;
    }
    case "Call":
      ctx.report(
        diagnostic("invalid-expression", expr.range, {
          detail: `${expr.callee.name}(...) is a layer, not a value here`,
        }),
      );
      return undefined;
    case "Chain":
    case "Labeled":
      ctx.report(
        diagnostic("invalid-expression", expr.range, { detail: `a chain is not a value here` }),
      );
      return undefined;
    case "Missing":
      return undefined;
  }
}

/** Whether `expr` reads one of `names` (a block parameter, say). */
export function mentions(expr: Expr, names: ReadonlyMap<string, unknown>): boolean {
  switch (expr.kind) {
    case "Name":
      return names.has(expr.name);
    case "Tuple":
      return expr.items.some((e) => mentions(e, names));
    case "Negate":
      return mentions(expr.operand, names);
    case "Binary":
      return mentions(expr.left, names) || mentions(expr.right, names);
    case "Chain":
      return expr.steps.some((e) => mentions(e, names));
    case "Labeled":
      return mentions(expr.expr, names);
    case "Call":
      return expr.args.some((a) => mentions(a.value, names));
    default:
      return false;
  }
}
