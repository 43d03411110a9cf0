// SpatialUpSamplingBilinear: bilinear upsampling by an integer factor (PyTorch's F.interpolate,
// mode="bilinear", with a scale factor and either align_corners).
import { bilinearTaps, type Bilinear } from "../ops.js";
import { size, type Args, type LayerDef, type ReferenceContext, type Shape } from "./types.js";
import { scaleArg, upsampledShape } from "./spatial-up-sampling-nearest.js";

const bilinearAttrs = (input: Shape, args: Args): Bilinear => ({
  C: input[0]!,
  H: input[1]!,
  W: input[2]!,
  scale: args["scale"] as number,
  alignCorners: args["align_corners"] === true,
});

/** Calls `visit` with every output position, and each of its four inputs with its weight. */
function eachTap(c: ReferenceContext, visit: (out: number, at: number, weight: number) => void) {
  const { C, H, W, scale, alignCorners } = bilinearAttrs(c.inputs[0]!, c.args);
  const rows = bilinearTaps(H, scale, alignCorners);
  const cols = bilinearTaps(W, scale, alignCorners);
  for (let nc = 0; nc < c.N * C; nc++)
    rows.forEach((r, oh) =>
      cols.forEach((q, ow) => {
        const out = (nc * rows.length + oh) * cols.length + ow;
        const plane = nc * H * W;
        visit(out, plane + r.i0 * W + q.i0, r.l0 * q.l0);
        visit(out, plane + r.i0 * W + q.i1, r.l0 * q.l1);
        visit(out, plane + r.i1 * W + q.i0, r.l1 * q.l0);
        visit(out, plane + r.i1 * W + q.i1, r.l1 * q.l1);
      }),
    );
}

export const spatialUpSamplingBilinear: LayerDef = {
  name: "SpatialUpSamplingBilinear",
  summary: "Bilinear upsampling by an integer factor (PyTorch's interpolate, mode='bilinear').",
  aliases: ["UpsamplingBilinear2d", "UpSampling2DBilinear"],
  args: [
    scaleArg,
    {
      name: "align_corners",
      type: "bool",
      default: false,
      doc: "true: the corner outputs sit on the corner inputs, the rest evenly between; false (PyTorch's default): output pixel centres map to (o + ½)/scale − ½, the border repeating the edge",
    },
  ],
  ...upsampledShape,
  lowering: {
    forward(c) {
      c.step("upsample_bilinear", [c.x[0]!], [c.y], bilinearAttrs(c.inputs[0]!, c.args));
    },
    backward(c) {
      const dx = c.dx(0);
      if (!dx) return;
      const attrs = bilinearAttrs(c.inputs[0]!, c.args);
      c.step("upsample_bilinear_grad", [c.dy], [dx.tensor], attrs, dx.accumulate);
    },
  },
  // y = Σ weight · x over the four taps; each input sums its taps' weighted gradients.
  reference: {
    forward(c) {
      const x = c.x[0]!;
      const y = new Float64Array(c.N * size(c.output));
      eachTap(c, (out, at, weight) => (y[out] += weight * x[at]!));
      return { y };
    },
    backward(c) {
      const dx = new Float64Array(c.x[0]!.length);
      eachTap(c, (out, at, weight) => (dx[at] += weight * c.dy[out]!));
      return { dx: [dx] };
    },
  },
};
