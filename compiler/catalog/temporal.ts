// The 1-D layers over [channels, length] (PyTorch's Conv1d, MaxPool1d, AvgPool1d). Each is its
// 2-D counterpart over [channels, 1, length] with a 1 × n window, the same memory: it lowers onto
// that layer's kernels (both backends), gradient rule and reference, seen through `asSpatial`.
import { formatShape } from "../diagnostics.js";
import type { ArgSpec, Args, LayerDef, Shape, ShapeContext } from "./types.js";
import { dilatedSpan, requireRank, temporalInput, windowCount } from "./window.js";

export const requireTemporal = (ctx: ShapeContext): Shape | undefined =>
  requireRank(ctx, 2, temporalInput);

/** The window arguments of a 1-D layer: one number each, where the 2-D layers take n or [h, w]. */
export const temporalArgs = {
  kernel: { name: "kernel", type: "int", min: 1, doc: "window length" } as ArgSpec,
  stride: {
    name: "stride",
    type: "int",
    default: 1,
    min: 1,
    doc: "step between windows",
  } as ArgSpec,
  pad: {
    name: "pad",
    type: "int",
    default: 0,
    min: 0,
    doc: "zero padding at each end",
  } as ArgSpec,
};

/**
 * How many windows fit along the length (PyTorch's rule, `ceil` as the 2-D layers'); reports a
 * window that does not fit and positions past the last window's end. A dilated window spans
 * dilation·(kernel − 1) + 1 positions.
 */
export function temporalWindowOutput(ctx: ShapeContext, input: Shape): number | undefined {
  const [kernel, stride, pad] = ["kernel", "stride", "pad"].map((n) => ctx.args[n] as number);
  const dilation = typeof ctx.args["dilation"] === "number" ? ctx.args["dilation"] : 1;
  const span = dilatedSpan(kernel!, dilation);
  const length = input[1]!;
  const out = windowCount(length, span, stride!, pad!, ctx.args["ceil"] === true);
  if (out < 1) {
    return ctx.error(
      "kernel-too-large",
      {
        layer: ctx.layer,
        kernel: dilation === 1 ? String(kernel) : `${kernel} dilated ${dilation}`,
        shape: formatShape(input),
        pad: String(pad),
        output: String(out),
      },
      "kernel",
    );
  }
  const lost = Math.max(0, length - ((out - 1) * stride! - pad! + span));
  if (lost > 0) {
    ctx.warn("drops-input", {
      layer: ctx.layer,
      shape: formatShape(input),
      lost: `${lost} position${lost === 1 ? "" : "s"}`,
    });
  }
  return out;
}

/** Each window argument's first (height) component in the 2-D view: a window 1 row high. */
const heights: ReadonlyMap<string, number> = new Map([
  ["kernel", 1],
  ["stride", 1],
  ["dilation", 1],
  ["pad", 0],
]);

const spatialShape = (shape: Shape): Shape => [shape[0]!, 1, ...shape.slice(1)];

function spatialArgs(args: Args): Args {
  return Object.fromEntries(
    Object.entries(args).map(([name, v]) => {
      const height = heights.get(name);
      return [name, height !== undefined && typeof v === "number" ? [height, v] : v];
    }),
  );
}

/** A lowering or reference context of the 1-D layer, seen as one of its 2-D counterpart. */
function asSpatial<T extends { inputs: readonly Shape[]; output: Shape; args: Args }>(c: T): T {
  return {
    ...c,
    inputs: c.inputs.map(spatialShape),
    output: spatialShape(c.output),
    args: spatialArgs(c.args),
  };
}

/** A 1-D layer: its own signature and shape rule, the 2-D layer's lowering and reference. */
export function temporalLayer(
  spatial: LayerDef,
  def: Omit<LayerDef, "lowering" | "reference">,
): LayerDef {
  const lowering = spatial.lowering!;
  const reference = spatial.reference!;
  return {
    ...def,
    lowering: {
      forward: (c) => lowering.forward(asSpatial(c)),
      backward: (c) => lowering.backward(asSpatial(c)),
    },
    reference: {
      forward: (c) => reference.forward(asSpatial(c)),
      backward: (c) => reference.backward(asSpatial(c)),
    },
  };
}
