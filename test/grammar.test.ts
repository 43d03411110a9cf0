// The parser: every sample parses, spans are exact, newlines and recovery behave as documented.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { parse, type Expr, type NetFile } from "../grammar/index.js";

const samplesDir = new URL("../samples/", import.meta.url);
const samples = readdirSync(samplesDir).filter((f) => f.endsWith(".net"));

/** Every object with a `range` in the tree, depth first. */
function ranges(node: unknown, out: { kind: string; pos: number; end: number }[] = []) {
  if (Array.isArray(node)) node.forEach((n) => ranges(n, out));
  else if (node && typeof node === "object") {
    const r = (node as { range?: { pos: number; end: number } }).range;
    if (r) out.push({ kind: (node as { kind?: string }).kind ?? "Ident", ...r });
    for (const [k, v] of Object.entries(node)) if (k !== "range") ranges(v, out);
  }
  return out;
}

function firstStatementValue(ast: NetFile, index = 0): Expr {
  const model = ast.decls[0]!;
  if (model.kind !== "Model") throw new Error("expected a model");
  const stmt = model.body[index]!;
  if (stmt.kind !== "Chain" && stmt.kind !== "Bind")
    throw new Error(`expected a chain, got ${stmt.kind}`);
  return stmt.value;
}

const text = (src: string, e: { range: { pos: number; end: number } }) =>
  src.slice(e.range.pos, e.range.end);

describe("parse", () => {
  test.each(samples)(
    "%s parses without diagnostics and every span lies inside the text",
    (file) => {
      const src = readFileSync(new URL(file, samplesDir), "utf8");
      const { ast, problems: diagnostics } = parse(src);
      expect(diagnostics).toEqual([]);
      for (const r of ranges(ast.decls)) {
        expect(r.pos).toBeGreaterThanOrEqual(0);
        expect(r.end).toBeGreaterThan(r.pos);
        expect(r.end).toBeLessThanOrEqual(src.length);
      }
    },
  );

  test("a labelled layer's span runs from the label to the closing parenthesis", () => {
    const src =
      "model M {\n  input x: [1, 8, 8]\n  conv1: SpatialConvolution(6, kernel=5) -> ReLU\n}\n";
    const chain = firstStatementValue(parse(src).ast, 1);
    expect(chain.kind).toBe("Chain");
    if (chain.kind !== "Chain") return;
    expect(chain.steps.map((s) => text(src, s))).toEqual([
      "conv1: SpatialConvolution(6, kernel=5)",
      "ReLU",
    ]);
  });

  test("a chain continues on the next line after a trailing arrow or before a leading one", () => {
    const src = "model M {\n  input x: [4]\n  Linear(3) ->\n    ReLU\n  -> Linear(2)\n}\n";
    const { ast, problems: diagnostics } = parse(src);
    expect(diagnostics).toEqual([]);
    const chain = firstStatementValue(ast, 1);
    expect(chain.kind === "Chain" && chain.steps.length).toBe(3);
  });

  test("arguments may span lines after '(' and ','", () => {
    const src =
      "model M {\n  input x: [1, 8, 8]\n  SpatialConvolution(\n    6,\n    kernel=3\n  )\n}\n";
    const { ast, problems: diagnostics } = parse(src);
    expect(diagnostics).toEqual([]);
    const call = firstStatementValue(ast, 1);
    expect(call.kind === "Call" && call.args.length).toBe(2);
  });

  test("comments are kept with their spans for the formatter", () => {
    const src = "# top\nmodel M { # after brace\n  input x: [4]\n  ReLU # tail\n}\n";
    expect(parse(src).ast.comments.map((c) => text(src, c))).toEqual([
      "# top",
      "# after brace",
      "# tail",
    ]);
  });

  test("'*' binds tighter than '+', and '-' negates", () => {
    const src = "model M {\n  input x: [4]\n  Linear(2 + 3 * -4)\n}\n";
    const call = firstStatementValue(parse(src).ast, 1);
    if (call.kind !== "Call") throw new Error("expected a call");
    const value = call.args[0]!.value;
    expect(value.kind === "Binary" && value.op).toBe("+");
    expect(value.kind === "Binary" && value.right.kind === "Binary" && value.right.op).toBe("*");
    expect(value.kind === "Binary" && value.right.kind === "Binary" && value.right.right.kind).toBe(
      "Negate",
    );
  });

  test("numbers: integers, decimals and exponents", () => {
    const src = "train {\n  a = 3\n  b = 0.01\n  c = 1e-3\n  d = .5\n}\n";
    const train = parse(src).ast.decls[0]!;
    if (train.kind !== "Train") throw new Error("expected train");
    expect(
      train.settings.map((s) => s.value.kind === "Number" && [s.value.value, s.value.isInteger]),
    ).toEqual([
      [3, true],
      [0.01, false],
      [0.001, false],
      [0.5, false],
    ]);
  });

  test("after a syntax error the rest of the file still parses", () => {
    const src =
      "model A {\n  input x: [1, 2\n  Linear(3, , )\n  ReLU\n}\nmodel B {\n  input y: [4]\n  Linear(2)\n}\ncriterion MSE\n";
    const { ast, problems: diagnostics } = parse(src);
    expect(diagnostics.length).toBeGreaterThanOrEqual(1);
    expect(diagnostics.every((d) => d.code === "syntax-error")).toBe(true);
    expect(diagnostics[0]!.message).toBe("expected ']', found end of line");
    expect(ast.decls.map((d) => d.kind)).toEqual(["Model", "Model", "Criterion"]);
    const a = ast.decls[0]!;
    expect(a.kind === "Model" && a.body.map((s) => s.kind)).toEqual(["Input", "Chain", "Chain"]);
  });

  test("an unexpected character is reported where it stands, and parsing goes on", () => {
    const src = "model M {\n  input x: [4]\n  Linear(3) @\n  ReLU\n}\n";
    const { ast, problems: diagnostics } = parse(src);
    expect(diagnostics.map((d) => [d.code, text(src, d)])).toEqual([["invalid-character", "@"]]);
    const m = ast.decls[0]!;
    expect(m.kind === "Model" && m.body.length).toBe(3);
  });
});
