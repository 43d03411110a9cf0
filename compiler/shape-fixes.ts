// Quick fixes for shape errors: the checker knows the size that would have fit.
import { size, type Shape } from "./catalog/types.js";
import type { Diagnostic, Fix } from "./diagnostics.js";
import type { GraphNode } from "./graph.js";

/**
 * The fixes of a shape diagnostic at `node`, whose first input has shape `input`; `at` is the
 * argument the diagnostic is about. Called only for layers of the model's own body: inside a
 * block the sizes come from one use, and writing them into the block would break its other uses.
 */
export function shapeFixes(
  d: Diagnostic,
  node: GraphNode,
  input: Shape,
  at: string | undefined,
): Fix[] {
  const replace = (title: string, arg: string, newText: string): Fix[] => {
    const range = node.valueRanges[arg];
    return range ? [{ title, edits: [{ range, newText }] }] : [];
  };
  switch (d.code) {
    case "view-mismatch":
      return replace(
        `Reshape to all ${size(input)} elements: View(${size(input)})`,
        "dims",
        String(size(input)),
      );
    case "input-size-mismatch":
      return at ? replace(`Set the input size to ${input[0]}`, at, String(input[0])) : [];
    case "linear-needs-vector":
      // A step of its own keeps any label on the Linear, where the parameters belong.
      return [
        {
          title: "Insert Flatten before Linear",
          edits: [{ range: { pos: node.range.pos, end: node.range.pos }, newText: "Flatten -> " }],
        },
      ];
    default:
      return [];
  }
}
