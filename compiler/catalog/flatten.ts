// Flatten: each sample becomes one vector.
import { size, type LayerDef } from "./types.js";
import { reshapeReference } from "./view.js";

export const flatten: LayerDef = {
  name: "Flatten",
  summary: "Flattens each sample into one vector.",
  args: [],
  shapeRule: "[d1, d2, ...] → [d1·d2·...]",
  outputShape: (ctx) => [size(ctx.inputs[0]!)],
  lowering: { alias: true, forward() {}, backward() {} },
  reference: reshapeReference,
};
