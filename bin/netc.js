#!/usr/bin/env node
// The `netc` command: runs the compiled CLI (built into dist/ by `npm ci` / `npm run build`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
if (!existsSync(main)) {
  process.stderr.write("netc: the CLI is not built; run `npm ci` or `npm run build` first\n");
  process.exit(2);
}
await import(main);
