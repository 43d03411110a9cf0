// SpatialUpSamplingNearest: repeats each pixel scale×scale times.
import type { LayerDef } from "./types.js";
import { requireSpatial } from "./window.js";

export const spatialUpSamplingNearest: LayerDef = {
  name: "SpatialUpSamplingNearest",
  summary: "Nearest-neighbour upsampling by an integer factor.",
  aliases: ["Upsample", "UpSampling2D", "UpsamplingNearest2d"],
  args: [{ name: "scale", type: "int", min: 1, doc: "integer factor on height and width" }],
  shapeRule: "[C, H, W] → [C, H·scale, W·scale]",
  outputShape(ctx) {
    const input = requireSpatial(ctx);
    const s = ctx.args["scale"] as number;
    return input && [input[0]!, input[1]! * s, input[2]! * s];
  },
};
