// The formatter (samples unchanged, idempotent, comments kept, errors refused), `netc fmt` and the Prettier plugin.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import * as prettier from "prettier";
import { afterAll, describe, expect, test } from "vitest";
import { astDump, format, type FormatOptions } from "../grammar/format.js";
import { parse } from "../grammar/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));

function netFiles(dir: string): { name: string; text: string }[] {
  const url = new URL(dir, new URL("..", import.meta.url));
  return readdirSync(url)
    .filter((f) => f.endsWith(".net"))
    .map((f) => ({ name: f, text: readFileSync(new URL(f, url), "utf8") }));
}

const samples = netFiles("samples/");
// The golden inputs without syntax errors: a wider variety of layouts than the samples.
const golden = netFiles("test/golden/").filter((f) => parse(f.text).problems.length === 0);

/** The formatted text; fails the test when the formatter refuses. */
function formatted(text: string, options?: FormatOptions): string {
  const result = format(text, options);
  if ("error" in result) throw new Error(result.error);
  return result.text;
}

function commentTexts(text: string): string[] {
  return parse(text)
    .ast.comments.map((c) => c.text.trimEnd())
    .sort();
}

/** Everything the formatter promises about a file it accepts. */
function expectSound(text: string): void {
  const once = formatted(text);
  expect(formatted(once)).toBe(once);
  expect(commentTexts(once)).toEqual(commentTexts(text));
  const reparsed = parse(once);
  expect(reparsed.problems).toEqual([]);
  expect(astDump(reparsed.ast)).toBe(astDump(parse(text).ast));
}

describe("format", () => {
  test.each(samples)("$name formats to itself", ({ text }) => {
    expect(formatted(text)).toBe(text);
  });

  test("golden inputs format soundly", () => {
    expect(golden.length).toBeGreaterThan(20);
    for (const { text } of golden) expectSound(text);
  });

  // Edits that mostly keep a file parseable: spacing, line breaks, comments, parentheses.
  const fragments = [
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n\n",
    "# note\n",
    " # trailing\n",
    "\n# own line\n",
    "(",
    ")",
    "->",
    "-> ReLU",
    ",",
    "-",
    "1",
    "\r\n",
  ];

  test.each(samples)("mutations of $name that still parse format soundly", ({ text }) => {
    const mutation = fc.record({
      at: fc.nat({ max: text.length }),
      remove: fc.nat({ max: 3 }),
      insert: fc.array(fc.constantFrom(...fragments), { maxLength: 3 }),
    });
    let parsed = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (mutations) => {
        let mutated = text;
        for (const m of mutations) {
          const at = Math.min(m.at, mutated.length);
          mutated = mutated.slice(0, at) + m.insert.join("") + mutated.slice(at + m.remove);
        }
        if (parse(mutated).problems.length > 0) {
          expect("error" in format(mutated)).toBe(true);
          return;
        }
        parsed++;
        expectSound(mutated);
      }),
      { numRuns: 400, seed: 20261124 },
    );
    // Otherwise the property would hold vacuously.
    expect(parsed).toBeGreaterThan(40);
  });

  test("a file with syntax errors is refused", () => {
    const result = format("model M {\n  input x: [10]\n  Linear(5, bias=\n}\n");
    expect(result).toEqual({ error: expect.stringMatching(/^4:1: .*not formatted$/) });
  });

  test("spacing, arguments, tuples and expressions are normalised", () => {
    const text = [
      "block   B( c , d=2*(3+1) ) {",
      "    y=in->a:SpatialConvolution( c,kernel = 3 ,pad=(c - 1) / 2 )->ReLU",
      "output y",
      "}",
      "model M{",
      "input x :[ 3,32 , 32]",
      "  View(-1, - -2, -(3*4), 1e-3, 2., .5, 8 - (4 - 2), (8 - 4) - 2, -3 * 2) -> ReLU()",
      "}",
      "criterion   MSE",
      "train { optimizer = Adam( lr=0.001 )",
      "batch=1 }",
    ].join("\n");
    expect(formatted(text)).toBe(
      [
        "block B(c, d=2 * (3 + 1)) {",
        "  y = in -> a: SpatialConvolution(c, kernel=3, pad=(c - 1) / 2) -> ReLU",
        "  output y",
        "}",
        "",
        "model M {",
        "  input x: [3, 32, 32]",
        "  View(-1, --2, -(3 * 4), 1e-3, 2., .5, 8 - (4 - 2), 8 - 4 - 2, -3 * 2) -> ReLU()",
        "}",
        "",
        "criterion MSE",
        "",
        "train {",
        "  optimizer = Adam(lr=0.001)",
        "  batch = 1",
        "}",
        "",
      ].join("\n"),
    );
  });

  test("repeats keep the parentheses of a repeated chain and of an expression count", () => {
    const text = [
      "block B(c, n) {",
      "  ( SpatialConvolution(c, kernel=3, pad=1)->ReLU )*n",
      "}",
      "model M {",
      "  input x: [3, 8, 8]",
      "  stage:B(4, 2)*(1+1) -> ReLU*2",
      "  nn.Conv2d(4, 4, 1)",
      "}",
    ].join("\n");
    expect(formatted(text)).toBe(
      [
        "block B(c, n) {",
        "  (SpatialConvolution(c, kernel=3, pad=1) -> ReLU) * n",
        "}",
        "",
        "model M {",
        "  input x: [3, 8, 8]",
        "  stage: B(4, 2) * (1 + 1) -> ReLU * 2",
        "  nn.Conv2d(4, 4, 1)",
        "}",
        "",
      ].join("\n"),
    );
  });

  test("comments stay where they were", () => {
    const text = [
      "# before a declaration",
      "model M {   # after the brace",
      "  # before the first statement",
      "  input x: [10]  # trailing",
      "",
      "",
      "",
      "  # between statements",
      "  Linear(5, # inside arguments",
      "    bias=false)",
      "  # before the brace",
      "}",
      "criterion MSE # trailing a declaration",
      "# at the end of the file",
    ].join("\n");
    expect(formatted(text)).toBe(
      [
        "# before a declaration",
        "model M {   # after the brace",
        "  # before the first statement",
        "  input x: [10]  # trailing",
        "",
        "  # between statements",
        "  Linear(5, # inside arguments",
        "    bias=false)",
        "  # before the brace",
        "}",
        "",
        "criterion MSE # trailing a declaration",
        "",
        "# at the end of the file",
        "",
      ].join("\n"),
    );
  });

  test("long chains break before -> and comments between steps break them too", () => {
    const conv = "SpatialConvolution(32, kernel=3, stride=2, pad=1)";
    const text = [
      "model M {",
      "  input x: [3, 64, 64]",
      `  f = x -> ${conv} -> ReLU -> ${conv} -> ReLU -> ${conv} -> ReLU`,
      `  conv1: ${conv} -> ReLU -> ${conv} -> ReLU -> ${conv}`,
      "  g = f -> ReLU   # why",
      "    -> ReLU",
      "    # and why not",
      "    -> ReLU",
      "  output g",
      "}",
    ].join("\n");
    expect(formatted(text)).toBe(
      [
        "model M {",
        "  input x: [3, 64, 64]",
        `  f = x -> ${conv} -> ReLU`,
        `        -> ${conv} -> ReLU`,
        `        -> ${conv} -> ReLU`,
        `  conv1: ${conv} -> ReLU`,
        `      -> ${conv} -> ReLU`,
        `      -> ${conv}`,
        "  g = f -> ReLU   # why",
        "        -> ReLU",
        "        # and why not",
        "        -> ReLU",
        "  output g",
        "}",
        "",
      ].join("\n"),
    );
    expect(formatted(text, { printWidth: 200 })).toContain(`${conv} -> ReLU -> ${conv} -> ReLU`);
  });

  test("the indent option", () => {
    expect(formatted("train {\nbatch = 1\n}\n", { indent: 4 })).toBe("train {\n    batch = 1\n}\n");
  });

  test("an empty file stays empty", () => {
    expect(formatted("")).toBe("");
    expect(formatted("\n\n")).toBe("");
    expect(formatted("# only\n\n\n# comments")).toBe("# only\n\n# comments\n");
  });
});

describe("netc fmt", () => {
  const dir = mkdtempSync(join(tmpdir(), "netc-fmt-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function netc(args: string[]) {
    const run = spawnSync(process.execPath, ["bin/netc.js", ...args], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  }

  function write(name: string, content: string): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  }

  const messy = "model M{\ninput x:[10]\nLinear( 5 )   # five\n}\n";
  // The comment keeps its column.
  const clean = "model M {\n  input x: [10]\n  Linear(5)   # five\n}\n";

  test("--check lists the files that would change and exits 1", () => {
    const bad = write("messy.net", messy);
    const good = write("clean.net", clean);
    const run = netc(["fmt", "--check", bad, good]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(`${bad}\n`);
    expect(readFileSync(bad, "utf8")).toBe(messy);
    expect(netc(["fmt", "--check", good])).toMatchObject({ status: 0, stdout: "" });
  });

  test("rewrites files in place", () => {
    const path = write("rewrite.net", messy);
    const run = netc(["fmt", path]);
    expect(run).toMatchObject({ status: 0, stderr: "" });
    expect(readFileSync(path, "utf8")).toBe(clean);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("a file with syntax errors gets its diagnostics, exit 1 and no change", () => {
    const broken = "model M {\n  input x: [10]\n  Linear(5, bias=\n}\n";
    const path = write("broken.net", broken);
    const run = netc(["fmt", path]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`${path}:4:1`);
    expect(run.stdout).toContain("error[syntax-error]");
    expect(readFileSync(path, "utf8")).toBe(broken);
  });

  test("an unreadable file is a one-line error with exit 2", () => {
    const run = netc(["fmt", join(dir, "missing.net")]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`netc: ${join(dir, "missing.net")}: no such file\n`);
  });
});

describe("prettier plugin", () => {
  test.each(samples)("formats $name like format()", async ({ text }) => {
    const plugin = await import("../editor/prettier-plugin.js");
    const options = { parser: "netc", plugins: [plugin], printWidth: 100 };
    expect(await prettier.format(text, options)).toBe(text);
    const messy = text.replace(/\n {2}/g, "\n    ").replace(/=(\d)/g, " = $1");
    expect(await prettier.format(messy, options)).toBe(formatted(messy));
  });

  test("passes printWidth and tabWidth on", async () => {
    const plugin = await import("../editor/prettier-plugin.js");
    const text = samples.find((s) => s.name === "tiny-detector.net")!.text;
    const out = await prettier.format(text, { parser: "netc", plugins: [plugin], tabWidth: 4 });
    expect(out).toBe(formatted(text, { indent: 4, printWidth: 80 }));
  });

  test("throws on syntax errors", async () => {
    const plugin = await import("../editor/prettier-plugin.js");
    await expect(
      prettier.format("model M {\n  Linear(\n}\n", { parser: "netc", plugins: [plugin] }),
    ).rejects.toThrow(SyntaxError);
  });

  test("the built plugin works from the prettier command line", () => {
    const run = spawnSync(
      process.execPath,
      [
        "node_modules/prettier/bin/prettier.cjs",
        "--plugin",
        "./dist/editor/prettier-plugin.js",
        "--stdin-filepath",
        "model.net",
      ],
      { cwd: root, encoding: "utf8", input: "model M{\ninput x:[10]\nLinear( 5 )\n}\n" },
    );
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("model M {\n  input x: [10]\n  Linear(5)\n}\n");
  });
});
