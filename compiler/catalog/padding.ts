// The padding family: a border of zeros, of the input's mirror image, or of its edge, around each
// plane (PyTorch's ZeroPad2d, ReflectionPad2d, ReplicationPad2d; Torch7's names and order).
import { padSource, type PadMode, type Padding } from "../ops.js";
import {
  size,
  type ArgSpec,
  type Args,
  type LayerDef,
  type ReferenceContext,
  type Shape,
} from "./types.js";
import { requireSpatial } from "./window.js";

const sides = ["left", "right", "top", "bottom"] as const;

function paddingAttrs(input: Shape, args: Args, mode: PadMode): Padding {
  const [left, right, top, bottom] = sides.map((side) => args[side] as number) as [
    number,
    number,
    number,
    number,
  ];
  return { C: input[0]!, H: input[1]!, W: input[2]!, top, bottom, left, right, mode };
}

/** Calls `visit` with each output position's offset and the input offset it copies (−1: zero). */
function eachPosition(
  c: ReferenceContext,
  mode: PadMode,
  visit: (out: number, at: number) => void,
) {
  const a = paddingAttrs(c.inputs[0]!, c.args, mode);
  const [HO, WO] = [c.output[1]!, c.output[2]!];
  for (let nc = 0; nc < c.N * a.C; nc++)
    for (let oh = 0; oh < HO; oh++)
      for (let ow = 0; ow < WO; ow++) {
        const i = padSource(oh - a.top, a.H, mode);
        const j = padSource(ow - a.left, a.W, mode);
        visit((nc * HO + oh) * WO + ow, i < 0 || j < 0 ? -1 : (nc * a.H + i) * a.W + j);
      }
}

const modeText: Record<PadMode, string> = {
  zero: "zeros; a negative padding crops (as ZeroPad2d and Torch7's SpatialZeroPadding)",
  reflect: "the input's mirror image about its edge row or column, the edge not repeated",
  replicate: "copies of the input's edge row or column",
};

export function paddingLayer(
  name: string,
  summary: string,
  aliases: string[],
  mode: PadMode,
): LayerDef {
  // Zero padding may crop; the others pad by at least nothing.
  const bound = mode === "zero" ? {} : { min: 0 };
  const args: ArgSpec[] = [
    { name: "left", type: "int", ...bound, doc: "columns added on the left" },
    ...sides.slice(1).map((side): ArgSpec => ({
      name: side,
      type: "int",
      ...bound,
      default: (a) => a["left"]!,
      doc: `${side === "right" ? "columns" : "rows"} added on the ${side} (default: left)`,
    })),
  ];
  return {
    name,
    summary,
    aliases,
    args,
    shapeRule: `[C, H, W] → [C, top + H + bottom, left + W + right]; the border holds ${modeText[mode]}${
      mode === "reflect" ? "; each padding must be less than the dimension it pads" : ""
    }`,
    outputShape(ctx) {
      const input = requireSpatial(ctx);
      if (!input) return undefined;
      const a = paddingAttrs(input, ctx.args, mode);
      for (const [side, dim, what] of [
        ["left", a.W, "width"],
        ["right", a.W, "width"],
        ["top", a.H, "height"],
        ["bottom", a.H, "height"],
      ] as const) {
        const value = a[side];
        if (mode === "reflect" && value >= dim)
          return ctx.error(
            "argument-range",
            {
              name: side,
              value: String(value),
              bound: `less than the input's ${what} ${dim} (a reflection does not repeat the edge)`,
            },
            side,
          );
      }
      const [HO, WO] = [a.top + a.H + a.bottom, a.left + a.W + a.right];
      if (HO < 1 || WO < 1) {
        const [side, dim, what] =
          HO < 1 ? (["top", a.H, "rows"] as const) : (["left", a.W, "columns"] as const);
        const other = side === "top" ? "bottom" : "right";
        return ctx.error(
          "argument-range",
          {
            name: side,
            value: String(a[side]),
            bound: `such that ${side} + ${other} crops fewer than the input's ${dim} ${what}`,
          },
          side,
        );
      }
      return [a.C, HO, WO];
    },
    lowering: {
      forward(c) {
        c.step("pad", [c.x[0]!], [c.y], paddingAttrs(c.inputs[0]!, c.args, mode));
      },
      backward(c) {
        const dx = c.dx(0);
        if (!dx) return;
        const attrs = paddingAttrs(c.inputs[0]!, c.args, mode);
        c.step("pad_grad", [c.dy], [dx.tensor], attrs, dx.accumulate);
      },
    },
    // y = x at the position the border maps to; the gradient adds up each position's copies.
    reference: {
      forward(c) {
        const x = c.x[0]!;
        const y = new Float64Array(c.N * size(c.output));
        eachPosition(c, mode, (out, at) => (y[out] = at < 0 ? 0 : x[at]!));
        return { y };
      },
      backward(c) {
        const dx = new Float64Array(c.x[0]!.length);
        eachPosition(c, mode, (out, at) => {
          if (at >= 0) dx[at] += c.dy[out]!;
        });
        return { dx: [dx] };
      },
    },
  };
}
