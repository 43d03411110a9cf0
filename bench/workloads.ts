// The three benchmark workloads of shared/design/benchmarks.md, as one layer list every peer builds
// its own model from, so the netc sample, the TF.js, ConvNetJS and PyTorch models cannot drift.

export type Layer =
  | { type: "conv"; out: number; kernel: number; pad: number }
  | { type: "relu" }
  | { type: "maxpool"; size: number }
  | { type: "flatten" }
  | { type: "linear"; out: number };

export type WorkloadName = "mlp" | "lenet5" | "cnn";

export interface Workload {
  name: WorkloadName;
  /** The netc model, relative to the repository. */
  sample: string;
  /** Forward FLOPs per sample as benchmarks.md counts them (2 per multiply-add). */
  flops: number;
  /** After these: LogSoftMax, and NLL for training. */
  layers: Layer[];
}

/** Every workload reads one 28×28 grayscale image and scores 10 classes. */
export const INPUT = [1, 28, 28] as const;
export const CLASSES = 10;

const relu = { type: "relu" } as const;
const pool = { type: "maxpool", size: 2 } as const;
const flatten = { type: "flatten" } as const;
const conv = (out: number, kernel: number, pad: number) =>
  ({ type: "conv", out, kernel, pad }) as const;
const linear = (out: number) => ({ type: "linear", out }) as const;

export const workloads: Workload[] = [
  {
    name: "mlp",
    sample: "samples/mlp.net",
    flops: 469_504,
    layers: [flatten, linear(256), relu, linear(128), relu, linear(10)],
  },
  {
    name: "lenet5",
    sample: "samples/lenet5.net",
    flops: 833_040,
    layers: [
      ...[conv(6, 5, 2), relu, pool, conv(16, 5, 0), relu, pool, flatten],
      ...[linear(120), relu, linear(84), relu, linear(10)],
    ],
  },
  {
    name: "cnn",
    sample: "samples/cnn.net",
    flops: 8_482_304,
    layers: [
      ...[conv(32, 3, 1), relu, pool, conv(64, 3, 1), relu, pool, flatten],
      ...[linear(128), relu, linear(10)],
    ],
  },
];

/** A layer with the per-sample shapes around it: `[c, h, w]`, or `[n]` after flatten. */
export interface PlannedLayer {
  layer: Layer;
  input: number[];
  output: number[];
}

export function plan(workload: Workload): PlannedLayer[] {
  let shape: number[] = [...INPUT];
  return workload.layers.map((layer) => {
    const input = shape;
    const [c, h, w] = input as [number, number, number];
    if (layer.type === "conv") {
      const side = (n: number) => n + 2 * layer.pad - layer.kernel + 1;
      shape = [layer.out, side(h), side(w)];
    } else if (layer.type === "maxpool") shape = [c, h / layer.size, w / layer.size];
    else if (layer.type === "flatten") shape = [input.reduce((a, b) => a * b, 1)];
    else if (layer.type === "linear") shape = [layer.out];
    return { layer, input, output: shape };
  });
}

/** 2 FLOPs per multiply-add of the conv and linear layers, as benchmarks.md counts. */
export function forwardFlops(workload: Workload): number {
  let flops = 0;
  for (const { layer, input, output } of plan(workload)) {
    const outputs = output.reduce((a, b) => a * b, 1);
    if (layer.type === "conv") flops += 2 * outputs * input[0]! * layer.kernel ** 2;
    if (layer.type === "linear") flops += 2 * outputs * input[0]!;
  }
  return flops;
}
