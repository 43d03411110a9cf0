// Inlines the runtime into a compiled module (`netc compile --standalone`, and the playground's
// download, which reads the runtime's files from its bundle): the module then imports nothing.
import type { ModuleText } from "../compiler/module.js";
import { bundleModules, type ReadModule } from "./bundle-modules.js";

/** Replaces the one line `pattern` matches, which the emitter must have written exactly once. */
function replaceLine(text: string, pattern: RegExp, by: string, what: string): string {
  const matches = text.match(new RegExp(pattern.source, "gm")) ?? [];
  if (matches.length !== 1) throw new Error(`standalone: expected one ${what} in the module`);
  // A function, so that `$&` and the like in the inlined code are not replacement patterns.
  return text.replace(new RegExp(pattern.source, "m"), () => by);
}

const quoted = (s: string) => JSON.stringify(s).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * `module` compiled with `runtimeImport`, made self-contained; `read` gives the built runtime's
 * files (dist/runtime: `model.js`, `api-types.d.ts`, ...).
 */
export function inlineRuntime(
  module: ModuleText,
  runtimeImport: string,
  read: ReadModule,
): ModuleText {
  const bundle = bundleModules("model.js", read);
  const runtime = `// The netc runtime (${bundle.modules.join(", ")}), inlined by --standalone.\n${bundle.code}`;
  const js = replaceLine(
    module.js,
    new RegExp(`^import \\{ instantiate \\} from ${quoted(runtimeImport)};$`),
    runtime,
    "runtime import",
  );
  const types = read("api-types.d.ts")
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
