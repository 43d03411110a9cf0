// Packs the VS Code extension as `npm run package:vscode` does and checks what the .vsix holds.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import yauzl from "yauzl";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageVsix } from "../editor/vscode/scripts/package.mjs";

const work = mkdtempSync(join(tmpdir(), "netc-vsix-"));
let entries: Map<string, string>;

async function readZip(path: string): Promise<Map<string, string>> {
  const zip = await yauzl.openPromise(path);
  const out = new Map<string, string>();
  try {
    for await (const entry of zip.eachEntry()) {
      if (!entry.fileName.endsWith("/")) {
        out.set(entry.fileName, await text(await zip.openReadStreamPromise(entry)));
      }
    }
  } finally {
    zip.close();
  }
  return out;
}

function entry(name: string): string {
  const content = entries.get(name);
  if (content === undefined) throw new Error(`${name} is not in the .vsix`);
  return content;
}

beforeAll(async () => {
  entries = await readZip(await packageVsix(join(work, "netc-language.vsix")));
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the .vsix", () => {
  it("holds the extension's files and nothing of its sources", () => {
    expect([...entries.keys()].sort()).toEqual([
      "[Content_Types].xml",
      "extension.vsixmanifest",
      "extension/language-configuration.json",
      "extension/out/extension.js",
      "extension/package.json",
      "extension/readme.md",
      "extension/syntaxes/netc.tmLanguage.json",
    ]);
  });

  it("has a manifest naming the extension and the language", () => {
    const manifest = entry("extension.vsixmanifest");
    expect(manifest).toMatch(/<Identity [^>]*Id="netc-language"/);
    expect(manifest).toMatch(/<Identity [^>]*Publisher="netc"/);
    expect(manifest).toContain('<Property Id="Microsoft.VisualStudio.Code.Engine" Value="^1.91.0"');
    expect(entry("[Content_Types].xml")).toContain('Extension=".json"');
  });

  it("contributes the netc language for .net files, with its grammar and configuration", () => {
    const pkg = JSON.parse(entry("extension/package.json"));
    expect(pkg.main).toBe("./out/extension.js");
    expect(pkg.activationEvents).toEqual(["onLanguage:netc"]);
    expect(pkg.contributes.languages).toEqual([
      expect.objectContaining({
        id: "netc",
        extensions: [".net"],
        configuration: "./language-configuration.json",
      }),
    ]);
    expect(pkg.contributes.grammars).toEqual([
      { language: "netc", scopeName: "source.netc", path: "./syntaxes/netc.tmLanguage.json" },
    ]);
    expect(Object.keys(pkg.contributes.configuration.properties).sort()).toEqual([
      "netc.server.args",
      "netc.server.path",
    ]);
    expect(JSON.parse(entry("extension/syntaxes/netc.tmLanguage.json")).scopeName).toBe(
      "source.netc",
    );
    const config = JSON.parse(entry("extension/language-configuration.json"));
    expect(config.comments).toEqual({ lineComment: "#" });
    expect(config.brackets).toEqual([
      ["{", "}"],
      ["[", "]"],
      ["(", ")"],
    ]);
  });

  it("has a client that parses and bundles vscode-languageclient", () => {
    const client = entry("extension/out/extension.js");
    const file = join(work, "extension.js");
    writeFileSync(file, client);
    execFileSync(process.execPath, ["--check", file]);
    // Bundled: the only modules left to `require` are VS Code's API and Node's own.
    const required = new Set([...client.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!));
    const node = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    expect([...required].filter((m) => m !== "vscode" && !node.has(m))).toEqual([]);
    expect(required).toContain("vscode");
    // An LSP method name only the language client's code spells out.
    expect(client).toContain("textDocument/didOpen");
  });
});
