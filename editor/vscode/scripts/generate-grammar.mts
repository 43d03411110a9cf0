// Rewrites syntaxes/netc.tmLanguage.json from grammar.mts (`npm run grammar:vscode`).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { format, resolveConfig } from "prettier";
import { buildGrammar, grammarPath } from "./grammar.mjs";
import { extensionDir, isMain } from "./paths.mjs";

/** The grammar file's text, printed as prettier prints it (`npm test` checks formatting). */
async function grammarText(path: string): Promise<string> {
  const options = await resolveConfig(path);
  return format(JSON.stringify(buildGrammar()), { ...options, filepath: path });
}

async function main(): Promise<void> {
  const path = join(extensionDir(), grammarPath);
  const text = await grammarText(path);
  if (existsSync(path) && readFileSync(path, "utf8") === text) {
    console.log(`${grammarPath} is up to date`);
  } else {
    writeFileSync(path, text);
    console.log(`${grammarPath} rewritten from the catalog`);
  }
}

if (isMain(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
