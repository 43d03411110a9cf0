// Keeps docs/language.md true: generated sections current, examples checking as shown, draft examples kept.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { check, diagnosticTable, type DiagnosticCode } from "../compiler/index.js";
import {
  BAD_EXAMPLE,
  describeDiagnostics,
  extractSections,
  generatedSections,
  runDiagnosticExamples,
} from "../docs/generate-reference.js";

const doc = readFileSync(new URL("../docs/language.md", import.meta.url), "utf8");
// A copy of shared/design/language.md: its examples are the contract the docs must keep.
const draft = readFileSync(new URL("./fixtures/design-examples.net.md", import.meta.url), "utf8");

interface Fence {
  info: string;
  body: string;
  line: number;
}

function fences(markdown: string): Fence[] {
  const out: Fence[] = [];
  for (const m of markdown.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const line = markdown.slice(0, m.index).split("\n").length;
    out.push({ info: m[1]!.trim(), body: m[2]!, line });
  }
  return out;
}

const docFences = fences(doc);
const cleanExamples = docFences.filter((f) => f.info === "net");
const badExamples = docFences.filter((f) => f.info === BAD_EXAMPLE);

/** What the checker says about a source, readable in a failed expectation. */
const diagnosticsOf = (source: string) => describeDiagnostics(source, check(source).diagnostics);

describe("docs/language.md", () => {
  it("has generated sections equal to what the generator produces from the compiler now", () => {
    const inDoc = extractSections(doc);
    const generated = generatedSections();
    expect([...inDoc.keys()].sort()).toEqual([...generated.keys()].sort());
    for (const [name, text] of generated) {
      expect(
        inDoc.get(name),
        `the generated section '${name}' of docs/language.md is out of date: run \`npm run docs\``,
      ).toBe(text);
    }
  });

  // Guards the fence parsing below: a broken pattern would otherwise check nothing.
  it("has examples to check", () => {
    expect(cleanExamples.length).toBeGreaterThanOrEqual(4);
    expect(badExamples.length).toBeGreaterThan(Object.keys(diagnosticTable).length);
  });

  it.each(cleanExamples.map((f) => [f.line, f.body] as const))(
    "the ```net example at line %i checks with no diagnostics",
    (_line, source) => {
      expect(diagnosticsOf(source)).toEqual([]);
    },
  );

  // The prose quotes parameter names (`2.a.weight`); each must be one the checker gives.
  it("quotes only parameter names that a checked example has", () => {
    const given = new Set(
      cleanExamples.flatMap((f) =>
        check(f.body).models.flatMap((m) => m.nodes.flatMap((n) => n.params.map((p) => p.name))),
      ),
    );
    const prose = doc.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "");
    const quoted = [...prose.matchAll(/`([\w.]+\.(?:weight|bias|running_mean|running_var))`/g)];
    expect(quoted.length).toBeGreaterThan(0);
    expect(quoted.map((m) => m[1]!).filter((name) => !given.has(name))).toEqual([]);
  });

  it.each(badExamples.map((f) => [f.line, f.body] as const))(
    "the ```net bad example at line %i raises a diagnostic",
    (_line, source) => {
      expect(check(source).diagnostics.length).toBeGreaterThan(0);
    },
  );
});

describe("diagnostic examples", () => {
  const runs = new Map(runDiagnosticExamples().map((r) => [r.code, r]));

  it.each(Object.keys(diagnosticTable) as DiagnosticCode[])(
    "the example of %s raises it",
    (code) => {
      const run = runs.get(code);
      expect(run, `docs/diagnostic-examples.ts has no example of '${code}'`).toBeDefined();
      expect(run!.diagnostics.map((d) => d.code)).toContain(code);
    },
  );

  it.each(Object.keys(diagnosticTable) as DiagnosticCode[])(
    "the reference shows the example of %s",
    (code) => {
      const source = runs.get(code)!.source;
      expect(badExamples.map((f) => f.body)).toContain(`${source}\n`);
      expect(doc).toContain(`#### \`${code}\``);
    },
  );
});

describe("the design draft's examples", () => {
  // The draft's section 4 shows checker output (`lenet5.net:9:3 error: ...`), not a source.
  const isCheckerOutput = (f: Fence) =>
    f.body
      .split("\n")
      .filter((l) => l.trim() !== "")
      .every((l) => /^\S+:\d+:\d+ (error|warning): /.test(l));
  const sources = fences(draft).filter((f) => !isCheckerOutput(f));

  it("are found in the fixture", () => {
    expect(sources.length).toBeGreaterThanOrEqual(4);
  });

  it.each(sources.map((f) => [f.line, f.body] as const))(
    "the example at line %i of the draft appears verbatim in a ```net block of the docs",
    (_line, source) => {
      expect(cleanExamples.map((f) => f.body)).toContain(source);
    },
  );

  it.each(sources.map((f) => [f.line, f.body] as const))(
    "the example at line %i of the draft checks with no diagnostics",
    (_line, source) => {
      expect(diagnosticsOf(source)).toEqual([]);
    },
  );
});
