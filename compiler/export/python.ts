// Python source text: literals and names, for the PyTorch export.
import type { ArgValue } from "../catalog/types.js";

/** A Python literal: `True`, `0.001`, `(3, 3)`. JavaScript's shortest round-trip form is Python's. */
export function py(value: ArgValue | string | undefined | null): string {
  if (value === undefined || value === null) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return value > 0 ? 'float("inf")' : 'float("-inf")';
    return String(value);
  }
  return value.length === 1 ? `(${py(value[0])},)` : `(${value.map((v) => py(v)).join(", ")})`;
}

/** A list literal: `[0.5, 2, 1]`. */
export const pyList = (values: readonly (number | string)[]): string =>
  `[${values.map((v) => py(v)).join(", ")}]`;

const keywords = new Set(
  (
    "False None True and as assert async await break class continue def del elif else except " +
    "finally for from global if import in is lambda nonlocal not or pass raise return try while " +
    "with yield match case"
  ).split(" "),
);

/**
 * What an nn.Module instance already has (PyTorch 1.13's `dir(nn.Module)`, and a few of later
 * versions): a submodule under such a name is stored, but `self.name` would read the method.
 */
const moduleAttributes = new Set(
  (
    "T_destination add_module apply bfloat16 buffers children cpu cuda double dump_patches eval " +
    "extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu " +
    "load_state_dict modules named_buffers named_children named_modules named_parameters " +
    "parameters register_backward_hook register_buffer register_forward_hook " +
    "register_forward_pre_hook register_full_backward_hook register_load_state_dict_post_hook " +
    "register_module register_parameter requires_grad_ set_extra_state share_memory state_dict to " +
    "to_empty train training type xpu zero_grad compile set_submodule call_super_init mtia " +
    "register_full_backward_pre_hook register_state_dict_pre_hook register_state_dict_post_hook " +
    "register_load_state_dict_pre_hook"
  ).split(" "),
);

/** A name Python code may use as a variable or argument. */
export const isIdentifier = (name: string): boolean =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !keywords.has(name);

/** A submodule name `self.<name>` reads back: an identifier that is no attribute of nn.Module. */
export const isAttribute = (name: string): boolean =>
  isIdentifier(name) && !name.startsWith("_") && !moduleAttributes.has(name);
