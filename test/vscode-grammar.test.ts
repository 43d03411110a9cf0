// The VS Code TextMate grammar: current with the catalog, and scoping real .net source as intended.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import onig from "vscode-oniguruma";
import textmate from "vscode-textmate";
import { beforeAll, describe, expect, it } from "vitest";
import { buildGrammar, grammarPath } from "../editor/vscode/scripts/grammar.mjs";
import { criterionList, layerList } from "../compiler/catalog/index.js";
import { optimizers } from "../compiler/catalog/optimizers.js";
import { schedules } from "../compiler/catalog/schedules.js";

const extensionDir = new URL("../editor/vscode/", import.meta.url);
const grammarFile = new URL(grammarPath, extensionDir);
const grammarSource = readFileSync(grammarFile, "utf8");

describe("the grammar file", () => {
  it("is the one grammar.mts builds from the catalog (else run `npm run grammar:vscode`)", () => {
    expect(JSON.parse(grammarSource)).toEqual(buildGrammar());
  });

  it("highlights exactly the catalog's layers, criteria, optimizers and schedules", () => {
    // Read from the file itself, so a layer added to the catalog fails here until regenerated.
    const library: { patterns: { match: string; name: string }[] } =
      JSON.parse(grammarSource).repository.library;
    const listed = (scope: string) => {
      const rule = library.patterns.find((p) => p.name === scope);
      return rule?.match
        .match(/\(\?:([^)]*)\)/)?.[1]
        ?.split("|")
        .sort();
    };
    const sorted = (names: string[]) => [...names].sort();
    expect(listed("support.function.layer.netc")).toEqual(sorted(layerList.map((l) => l.name)));
    expect(listed("support.function.criterion.netc")).toEqual(
      sorted(criterionList.map((c) => c.name)),
    );
    expect(listed("support.function.optimizer.netc")).toEqual(
      sorted(optimizers.map((o) => o.name)),
    );
    expect(listed("support.function.schedule.netc")).toEqual(sorted(schedules.map((s) => s.name)));
  });

  it("is the grammar the extension manifest contributes", () => {
    const manifest = JSON.parse(readFileSync(new URL("package.json", extensionDir), "utf8"));
    expect(manifest.contributes.grammars).toEqual([
      { language: "netc", scopeName: "source.netc", path: `./${grammarPath}` },
    ]);
    expect(JSON.parse(grammarSource).scopeName).toBe("source.netc");
  });
});

interface Token {
  text: string;
  scopes: string[];
}

// Tokenizes with the engine VS Code itself uses: vscode-textmate over the Oniguruma wasm.
let tokenize: (source: string) => Token[][];

beforeAll(async () => {
  const require = createRequire(import.meta.url);
  const wasm = readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await onig.loadWASM(wasm);
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new onig.OnigScanner(patterns),
      createOnigString: (s: string) => new onig.OnigString(s),
    }),
    loadGrammar: async (scopeName: string) =>
      scopeName === "source.netc"
        ? textmate.parseRawGrammar(grammarSource, grammarFile.pathname)
        : null,
  });
  const grammar = await registry.loadGrammar("source.netc");
  if (!grammar) throw new Error("source.netc did not load");
  tokenize = (source) => {
    let stack = textmate.INITIAL;
    return source.split("\n").map((line) => {
      const result = grammar.tokenizeLine(line, stack);
      stack = result.ruleStack;
      return result.tokens.map((t) => ({
        text: line.slice(t.startIndex, t.endIndex),
        scopes: t.scopes,
      }));
    });
  };
});

/** The innermost scope of the first token reading `text` on the line holding `lineText`. */
function scopeOf(lines: Token[][], source: string, lineText: string, text: string): string {
  const index = source.split("\n").findIndex((l) => l.includes(lineText));
  expect(index, `no line with ${lineText}`).toBeGreaterThanOrEqual(0);
  const token = lines[index]!.find((t) => t.text === text);
  expect(token, `no token ${text} on line ${index + 1}`).toBeDefined();
  return token!.scopes.at(-1)!;
}

describe("tokenizing samples", () => {
  it("scopes samples/lenet5.net", () => {
    const source = readFileSync(new URL("../samples/lenet5.net", import.meta.url), "utf8");
    const lines = tokenize(source);
    const at = (lineText: string, text: string) => scopeOf(lines, source, lineText, text);
    expect(at("model LeNet5", "model")).toBe("keyword.other.model.netc");
    expect(at("model LeNet5", "LeNet5")).toBe("entity.name.type.model.netc");
    expect(at("criterion NLL", "criterion")).toBe("keyword.other.netc");
    expect(at("criterion NLL", "NLL")).toBe("support.function.criterion.netc");
    expect(at("input image", "input")).toBe("keyword.other.input.netc");
    expect(at("# samples/lenet5.net", "#")).toBe("punctuation.definition.comment.netc");
    expect(lines[0]!.at(-1)!.scopes).toContain("comment.line.number-sign.netc");
    expect(at("View(400)", " checked: 16*5*5 must be 400")).toBe("comment.line.number-sign.netc");
    expect(at("conv1:", "conv1")).toBe("entity.name.label.netc");
    expect(at("conv1:", ":")).toBe("punctuation.separator.label.netc");
    expect(at("conv1:", "SpatialConvolution")).toBe("support.function.layer.netc");
    expect(at("conv1:", "->")).toBe("keyword.operator.arrow.netc");
    expect(at("conv1:", "ReLU")).toBe("support.function.layer.netc");
    expect(at("conv1:", "6")).toBe("constant.numeric.integer.netc");
    expect(at("conv1:", "kernel")).toBe("variable.parameter.netc");
    expect(at("LogSoftMax", "LogSoftMax")).toBe("support.function.layer.netc");
    expect(at("optimizer =", "optimizer")).toBe("variable.other.definition.netc");
    expect(at("optimizer =", "SGD")).toBe("support.function.optimizer.netc");
    expect(at("optimizer =", "0.01")).toBe("constant.numeric.float.netc");
    expect(at("batch = 64", "64")).toBe("constant.numeric.integer.netc");
  });

  it("scopes bindings, blocks, `in`, booleans and every number form", () => {
    const source = [
      "block Residual(c, k=3) {",
      "  y = in -> a: SpatialConvolution(c, kernel=k, pad=1, bias=false)",
      "  out = Add(in, y)",
      "  output out",
      "}",
      "train {",
      "  optimizer = Adam(lr=1e-3, weight_decay=.5)",
      "  epochs = 2. * 3.5e2",
      "}",
    ].join("\n");
    const lines = tokenize(source);
    const at = (lineText: string, text: string) => scopeOf(lines, source, lineText, text);
    expect(at("block", "block")).toBe("keyword.other.block.netc");
    expect(at("block", "Residual")).toBe("entity.name.function.block.netc");
    expect(at("block", "k")).toBe("variable.parameter.netc");
    expect(at("y = in", "y")).toBe("variable.other.definition.netc");
    expect(at("y = in", "=")).toBe("keyword.operator.assignment.netc");
    expect(at("y = in", "in")).toBe("variable.language.in.netc");
    expect(at("y = in", "false")).toBe("constant.language.boolean.netc");
    expect(at("output out", "output")).toBe("keyword.other.netc");
    expect(at("out = Add", "Add")).toBe("support.function.layer.netc");
    expect(at("train {", "train")).toBe("keyword.other.netc");
    expect(at("Adam", "1e-3")).toBe("constant.numeric.float.netc");
    expect(at("Adam", ".5")).toBe("constant.numeric.float.netc");
    expect(at("epochs", "2.")).toBe("constant.numeric.float.netc");
    expect(at("epochs", "*")).toBe("keyword.operator.arithmetic.netc");
    expect(at("epochs", "3.5e2")).toBe("constant.numeric.float.netc");
  });

  it("keeps a named argument on a continued line an argument, not a binding", () => {
    const source = ["  f = x -> SpatialConvolution(32,", "        kernel=3, stride=2)"].join("\n");
    const lines = tokenize(source);
    expect(scopeOf(lines, source, "stride", "kernel")).toBe("variable.parameter.netc");
    expect(scopeOf(lines, source, "f = x", "x")).toBe("variable.other.netc");
  });

  it("scopes a block's use as a call and leaves digits inside names alone", () => {
    const source = "  e2 = e1 -> SpatialMaxPooling(2) -> DoubleConv(16)";
    const lines = tokenize(source);
    expect(scopeOf(lines, source, "e2", "DoubleConv")).toBe("entity.name.function.call.netc");
    expect(scopeOf(lines, source, "e2", "e1")).toBe("variable.other.netc");
  });

  it("tokenizes every sample without leaving text unscoped", () => {
    const samples = new URL("../samples/", import.meta.url);
    for (const name of readdirSync(samples).filter((f) => f.endsWith(".net"))) {
      const source = readFileSync(new URL(name, samples), "utf8");
      for (const line of tokenize(source)) {
        for (const token of line) {
          if (token.text.trim() !== "") expect(token.scopes.length, token.text).toBeGreaterThan(1);
        }
      }
    }
  });
});
