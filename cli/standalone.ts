// `netc compile --standalone`: the runtime (built into dist/runtime) inlined into the module and
// its types into the .d.ts, so that the module imports nothing.
import { readFileSync } from "node:fs";
import type { ModuleText } from "../compiler/module.js";
import { inlineRuntime } from "./inline-runtime.js";

/** dist/runtime, beside this file's dist/cli. */
const runtimeDir = new URL("../runtime/", import.meta.url);

const readRuntime = (path: string) => readFileSync(new URL(path, runtimeDir), "utf8");

/** `module` compiled with `runtimeImport`, made self-contained. */
export function standaloneModule(module: ModuleText, runtimeImport: string): ModuleText {
  return inlineRuntime(module, runtimeImport, readRuntime);
}
