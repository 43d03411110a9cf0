// Golden diagnostic tests: each test/golden/<case>.net is checked and its diagnostics, rendered
// one per line with 1-based positions, are compared with <case>.diagnostics.txt. Run with
// UPDATE_GOLDEN=1 to write the baselines instead — then review every changed line by hand.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { LineMap } from "../grammar/positions.js";
import { check, diagnosticTable, formatShape, type Diagnostic } from "../compiler/index.js";

const goldenDir = new URL("./golden/", import.meta.url);
const samplesDir = new URL("../samples/", import.meta.url);
const update = process.env["UPDATE_GOLDEN"] === "1";

const netFiles = (dir: URL) =>
  readdirSync(fileURLToPath(dir))
    .filter((f) => f.endsWith(".net"))
    .sort();

/** `name.net:3:5-3:12 error code: message`, then one indented line per related location. */
function renderDiagnostics(file: string, text: string, list: readonly Diagnostic[]): string {
  const lines = new LineMap(text);
  const at = (offset: number) => {
    const { line, column } = lines.at(offset);
    return `${line}:${column}`;
  };
  return list
    .flatMap((d) => [
      `${file}:${at(d.range.pos)}-${at(d.range.end)} ${d.severity} ${d.code}: ${d.message}`,
      ...(d.related ?? []).map((r) => `  related ${at(r.range.pos)}: ${r.message}`),
    ])
    .map((line) => `${line}\n`)
    .join("");
}

const cases = netFiles(goldenDir).map((f) => f.slice(0, -".net".length));

test("there are golden cases", () => {
  expect(cases.length).toBeGreaterThanOrEqual(50);
});

for (const name of cases) {
  test(`golden: ${name}`, () => {
    const text = readFileSync(new URL(`${name}.net`, goldenDir), "utf8");
    const actual = renderDiagnostics(`${name}.net`, text, check(text).diagnostics);
    const baseline = new URL(`${name}.diagnostics.txt`, goldenDir);
    if (update) {
      writeFileSync(baseline, actual);
      return;
    }
    if (!existsSync(baseline)) {
      throw new Error(`missing baseline ${name}.diagnostics.txt; run with UPDATE_GOLDEN=1`);
    }
    expect(actual).toBe(readFileSync(baseline, "utf8"));
  });
}

test("every diagnostic code has a golden case", () => {
  const baselines = readdirSync(fileURLToPath(goldenDir))
    .filter((f) => f.endsWith(".diagnostics.txt"))
    .map((f) => readFileSync(new URL(f, goldenDir), "utf8"))
    .join("");
  const covered = new Set(
    [...baselines.matchAll(/ (?:error|warning) ([a-z-]+): /g)].map((m) => m[1]),
  );
  const missing = Object.keys(diagnosticTable).filter((code) => !covered.has(code));
  expect(missing, `codes with no golden case: ${missing.join(", ")}`).toEqual([]);
});

test("a half-typed file still gets shapes for the layers before its syntax error", () => {
  const text = readFileSync(new URL("half-typed.net", goldenDir), "utf8");
  const shapes = check(text).models[0]?.nodes.map((n) => `${n.name} ${formatShape(n.shape)}`);
  expect(shapes).toEqual(["x [1, 28, 28]", "conv1 [8, 28, 28]", "1 [8, 28, 28]"]);
});

for (const sample of netFiles(samplesDir)) {
  test(`sample ${sample} checks clean`, () => {
    const text = readFileSync(new URL(sample, samplesDir), "utf8");
    expect(renderDiagnostics(sample, text, check(text).diagnostics)).toBe("");
  });
}
