// SpatialUpSamplingNearest: repeats each pixel scale×scale times.
import type { ArgSpec, LayerDef } from "./types.js";
import { requireSpatial } from "./window.js";

export const scaleArg: ArgSpec = {
  name: "scale",
  type: "int",
  min: 1,
  doc: "integer factor on height and width",
};

/** The shape rule of upsampling by an integer factor, nearest or bilinear. */
export const upsampledShape: Pick<LayerDef, "shapeRule" | "outputShape"> = {
  shapeRule: "[C, H, W] → [C, H·scale, W·scale]",
  outputShape(ctx) {
    const input = requireSpatial(ctx);
    const s = ctx.args["scale"] as number;
    return input && [input[0]!, input[1]! * s, input[2]! * s];
  },
};

export const spatialUpSamplingNearest: LayerDef = {
  name: "SpatialUpSamplingNearest",
  summary: "Nearest-neighbour upsampling by an integer factor.",
  aliases: ["Upsample", "UpSampling2D", "UpsamplingNearest2d"],
  args: [scaleArg],
  ...upsampledShape,
  lowering: {
    forward(c) {
      const [C, H, W] = c.inputs[0]!;
      c.step("upsample_nearest", [c.x[0]!], [c.y], {
        C: C!,
        H: H!,
        W: W!,
        scale: c.args["scale"] as number,
      });
    },
    backward(c) {
      const dx = c.dx(0);
      if (!dx) return;
      const [C, H, W] = c.inputs[0]!;
      const attrs = { C: C!, H: H!, W: W!, scale: c.args["scale"] as number };
      c.step("upsample_nearest_grad", [c.dy], [dx.tensor], attrs, dx.accumulate);
    },
  },
  // y[n,c,oh,ow] = x[n,c, ⌊oh / scale⌋, ⌊ow / scale⌋]; each input pixel sums its copies' gradients.
  reference: {
    forward(c) {
      const [C, H, W] = c.inputs[0]! as [number, number, number];
      const s = c.args["scale"] as number;
      const x = c.x[0]!;
      const y = new Float64Array(c.N * C * H * s * W * s);
      for (let nc = 0; nc < c.N * C; nc++)
        for (let oh = 0; oh < H * s; oh++)
          for (let ow = 0; ow < W * s; ow++)
            y[(nc * H * s + oh) * W * s + ow] =
              x[(nc * H + Math.floor(oh / s)) * W + Math.floor(ow / s)]!;
      return { y };
    },
    backward(c) {
      const [C, H, W] = c.inputs[0]! as [number, number, number];
      const s = c.args["scale"] as number;
      const dx = new Float64Array(c.x[0]!.length);
      for (let nc = 0; nc < c.N * C; nc++)
        for (let oh = 0; oh < H * s; oh++)
          for (let ow = 0; ow < W * s; ow++)
            dx[(nc * H + Math.floor(oh / s)) * W + Math.floor(ow / s)] +=
              c.dy[(nc * H * s + oh) * W * s + ow]!;
      return { dx: [dx] };
    },
  },
};
