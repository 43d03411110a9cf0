// View: reshape each sample to the given dimensions (one may be -1, inferred).
import { formatShape } from "../diagnostics.js";
import { size, type LayerDef, type ReferenceRule } from "./types.js";

/** A reshape keeps every sample's values in order: the values and their gradient pass unchanged. */
export const reshapeReference: ReferenceRule = {
  forward: (c) => ({ y: Float64Array.from(c.x[0]!) }),
  backward: (c) => ({ dx: [Float64Array.from(c.dy)] }),
};

export const view: LayerDef = {
  name: "View",
  summary:
    "Reshapes each sample; the element count must not change. One dimension may be -1 (inferred).",
  aliases: ["Reshape", "view", "reshape"],
  args: [
    { name: "dims", type: "ints", variadic: true, min: -1, doc: "the new per-sample dimensions" },
  ],
  shapeRule: "[...] → [dims...] with equal element counts",
  outputShape(ctx) {
    const input = ctx.inputs[0]!;
    const dims = ctx.args["dims"] as readonly number[];
    if (dims.length === 0)
      return ctx.error("missing-argument", {
        layer: "View",
        names: ["dims"],
        signature: "View(dims...)",
      });
    const bad = dims.find((d) => d === 0);
    if (bad !== undefined || dims.filter((d) => d === -1).length > 1) {
      return ctx.error(
        "argument-range",
        { name: "dims", value: formatShape(dims), bound: "positive, with at most one -1" },
        "dims",
      );
    }
    const known = size(dims.filter((d) => d !== -1));
    const count = size(input);
    const inferred =
      dims.includes(-1) && count % known === 0
        ? dims.map((d) => (d === -1 ? count / known : d))
        : dims;
    if (size(inferred) !== count || inferred.includes(-1)) {
      return ctx.error(
        "view-mismatch",
        { dims: dims.join(", "), shape: formatShape(input), count, target: formatShape(dims) },
        "dims",
      );
    }
    return inferred;
  },
  lowering: { alias: true, forward() {}, backward() {} },
  reference: reshapeReference,
};
