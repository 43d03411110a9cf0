// The standalone compiled module, as `netc compile --standalone` writes it, made in the browser:
// the build embeds the runtime's built files (`netc:runtime`), which are inlined here.
import { inlineRuntime } from "@netc/cli/inline-runtime.js";
import type { Compiled } from "@netc/compiler/compile.js";
import runtimeFiles from "netc:runtime";

export function standaloneText(compiled: Compiled): string {
  const read = (path: string) => {
    const text = (runtimeFiles as Record<string, string>)[path];
    if (text === undefined) throw new Error(`the playground's runtime has no ${path}`);
    return text;
  };
  return inlineRuntime(compiled.module, "netc/runtime", read).js;
}
