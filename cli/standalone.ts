// `netc compile --standalone`: the runtime (built into dist/runtime) inlined into the module and
// its types into the .d.ts, so that the module imports nothing.
import { readFileSync } from "node:fs";
import type { ModuleText } from "../compiler/module.js";
import { bundleModules } from "./bundle-modules.js";

/** dist/runtime, beside this file's dist/cli. */
const runtimeDir = new URL("../runtime/", import.meta.url);

const readRuntime = (path: string) => readFileSync(new URL(path, runtimeDir), "utf8");

/** Replaces the one line `pattern` matches, which the emitter must have written exactly once. */
function replaceLine(text: string, pattern: RegExp, by: string, what: string): string {
  const matches = text.match(new RegExp(pattern.source, "gm")) ?? [];
  if (matches.length !== 1) throw new Error(`standalone: expected one ${what} in the module`);
  // A function, so that `$&` and the like in the inlined code are not replacement patterns.
  return text.replace(new RegExp(pattern.source, "m"), () => by);
}

const quoted = (s: string) => JSON.stringify(s).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `module` compiled with `runtimeImport`, made self-contained. */
export function standaloneModule(module: ModuleText, runtimeImport: string): ModuleText {
  const bundle = bundleModules("model.js", readRuntime);
  const runtime = `// The netc runtime (${bundle.modules.join(", ")}), inlined by --standalone.\n${bundle.code}`;
  const js = replaceLine(
    module.js,
    new RegExp(`^import \\{ instantiate \\} from ${quoted(runtimeImport)};$`),
    runtime,
    "runtime import",
  );
  const types = readRuntime("api-types.d.ts")
    .replace(/^export \{\};\n?/m, "")
    .trim();
  const dts = replaceLine(
    module.dts,
    new RegExp(`^import type \\{[^}]*\\} from ${quoted(runtimeImport)};$`),
    `// The netc runtime's types, inlined by --standalone.\n${types}`,
    "runtime type import",
  );
  return { js, dts };
}
