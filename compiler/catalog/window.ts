// Sliding-window arithmetic shared by convolutions and pooling (PyTorch's floor rule).
import { formatShape } from "../diagnostics.js";
import { formatPair, pair, type ArgSpec, type Shape, type ShapeContext } from "./types.js";

export const spatialInput = "[channels, height, width]";
export const temporalInput = "[channels, length]";

export function requireSpatial(ctx: ShapeContext): Shape | undefined {
  return requireRank(ctx, 3, spatialInput);
}

/** The input of a layer that takes `expected` (`rank` dimensions), or an error saying what to do. */
export function requireRank(ctx: ShapeContext, rank: number, expected: string): Shape | undefined {
  const input = ctx.inputs[0]!;
  if (input.length === rank) return input;
  return ctx.error("rank-mismatch", {
    layer: ctx.layer,
    expected: `a ${expected}`,
    shape: formatShape(input),
    hint: rankHint(ctx.layer, input),
  });
}

/** A layer, the ranks it takes and how a message names its input. */
interface RankedLayer {
  layer: string;
  ranks: readonly number[];
  input: string;
}
const signal = (layer: string): RankedLayer => ({ layer, ranks: [2], input: temporalInput });
const image = (layer: string): RankedLayer => ({ layer, ranks: [3], input: spatialInput });

/** The 1-D and 2-D layers of a kind, each the other's suggestion for an input of its rank. */
const counterparts: readonly (readonly RankedLayer[])[] = [
  [signal("TemporalConvolution"), image("SpatialConvolution")],
  [signal("TemporalMaxPooling"), image("SpatialMaxPooling")],
  [signal("TemporalAveragePooling"), image("SpatialAveragePooling")],
  [
    { layer: "BatchNormalization", ranks: [1, 2], input: `[features] or ${temporalInput}` },
    image("SpatialBatchNormalization"),
  ],
];

/**
 * What to do with an input of the wrong rank for `layer`: its counterpart for that rank, or a
 * View giving a flat vector the dimensions the layer needs.
 */
export function rankHint(layer: string, input: Shape): string | undefined {
  for (const pair of counterparts) {
    if (!pair.some((p) => p.layer === layer)) continue;
    const other = pair.find((p) => p.layer !== layer && p.ranks.includes(input.length));
    if (other) return `use ${other.layer} for a ${other.input} input`;
  }
  if (input.length !== 1) return undefined;
  return layer.startsWith("Temporal")
    ? "use View(c, length) to give it channels"
    : "use View(c, h, w) to give it a spatial shape";
}

export const windowArgs = {
  stride: {
    name: "stride",
    type: "size2",
    default: 1,
    min: 1,
    doc: "step between windows: n or [h, w]",
  } as ArgSpec,
  pad: {
    name: "pad",
    type: "size2",
    default: 0,
    min: 0,
    doc: "zero padding on each side: n or [h, w]",
  } as ArgSpec,
  dilation: {
    name: "dilation",
    type: "size2",
    default: 1,
    min: 1,
    doc: "spacing of the kernel's taps: n or [h, w]; a kernel k then spans dilation·(k − 1) + 1",
  } as ArgSpec,
  groups: {
    name: "groups",
    type: "int",
    default: 1,
    min: 1,
    doc: "channels split into groups convolved apart (in and out both divisible by it); groups = in is depthwise",
  } as ArgSpec,
};

/** The span of a kernel whose taps are `dilation` apart. */
export const dilatedSpan = (kernel: number, dilation: number): number =>
  dilation * (kernel - 1) + 1;

/** `3x3`, or `3x3 dilated 2` where the taps are spread. */
function formatKernel(kernel: readonly number[], dilation: readonly number[]): string {
  if (dilation[0] === 1 && dilation[1] === 1) return formatPair(kernel);
  const d = dilation[0] === dilation[1] ? String(dilation[0]) : formatPair(dilation);
  return `${formatPair(kernel)} dilated ${d}`;
}

/**
 * A grouped convolution's channels must split evenly: reports the group count that does not
 * divide the input channels `inputs` or the output channels `outputs`. True when they do.
 */
export function checkGroups(ctx: ShapeContext, inputs: number, outputs: number): boolean {
  const groups = ctx.args["groups"];
  if (typeof groups !== "number" || (inputs % groups === 0 && outputs % groups === 0)) return true;
  ctx.error("groups-mismatch", { layer: ctx.layer, groups, inputs, outputs }, "groups");
  return false;
}

/**
 * How many windows of `kernel` at `stride` fit along `size` padded by `pad` on each side
 * (PyTorch's pooling_output_shape). Rounded down, or up with `ceil`, where the last window may
 * run past the padding but must start inside the input or its leading padding.
 */
export function windowCount(
  size: number,
  kernel: number,
  stride: number,
  pad: number,
  ceil: boolean,
): number {
  const span = size + 2 * pad - kernel;
  if (!ceil) return Math.floor(span / stride) + 1;
  const out = Math.floor((span + stride - 1) / stride) + 1;
  return (out - 1) * stride >= size + pad ? out - 1 : out;
}

/**
 * Output height and width of a window of `kernel` sliding with `stride` over `input`
 * padded by `pad`; reports windows that do not fit and rows the windows never reach.
 */
export function windowOutput(ctx: ShapeContext, input: Shape): [number, number] | undefined {
  const kernel = pair(ctx.args["kernel"]);
  const stride = pair(ctx.args["stride"]);
  const pad = pair(ctx.args["pad"]);
  // Pooling has no dilation: its taps are adjacent.
  const dilation = ctx.args["dilation"] === undefined ? [1, 1] : pair(ctx.args["dilation"]);
  const span = [0, 1].map((d) => dilatedSpan(kernel[d]!, dilation[d]!));
  const ceil = ctx.args["ceil"] === true;
  const out = [0, 1].map((d) => windowCount(input[d + 1]!, span[d]!, stride[d]!, pad[d]!, ceil));
  const padText = pad[0] === pad[1] ? String(pad[0]) : formatPair(pad);
  if (out[0]! < 1 || out[1]! < 1) {
    return ctx.error(
      "kernel-too-large",
      {
        layer: ctx.layer,
        kernel: formatKernel(kernel, dilation),
        shape: formatShape(input),
        pad: padText,
        output: formatPair(out),
      },
      "kernel",
    );
  }
  // Rows (columns) past the last window's end are silently dropped; padding rows do not count.
  const lost = [0, 1].map((d) =>
    Math.max(0, input[d + 1]! - ((out[d]! - 1) * stride[d]! - pad[d]! + span[d]!)),
  );
  if (lost[0]! > 0 || lost[1]! > 0) {
    const parts = [];
    if (lost[0]! > 0) parts.push(`${lost[0]} row${lost[0] === 1 ? "" : "s"}`);
    if (lost[1]! > 0) parts.push(`${lost[1]} column${lost[1] === 1 ? "" : "s"}`);
    ctx.warn("drops-input", {
      layer: ctx.layer,
      shape: formatShape(input),
      lost: parts.join(" and "),
    });
  }
  return [out[0]!, out[1]!];
}
