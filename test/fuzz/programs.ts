// Grammar-aware generation for the fuzz tests: `.net` programs valid by construction (the
// generator tracks every shape), written in varied but equivalent ways.
import fc from "fast-check";

/** One generated program, and what it must check to. */
export interface Program {
  text: string;
  /** Valid by construction: the checker must report no error. */
  valid: true;
}

/** The choices a program is made from: fast-check shrinks these, and `render` is pure. */
interface Plan {
  spatial: boolean;
  channels: number;
  size: number;
  steps: { kind: number; a: number; b: number }[];
  graph: boolean;
  block: boolean;
  head: number;
  style: { eol: "\n" | "\r\n" | "\r"; indent: number; comments: boolean; spelling: number[] };
  train: boolean;
}

const planArbitrary: fc.Arbitrary<Plan> = fc.record({
  spatial: fc.boolean(),
  channels: fc.integer({ min: 1, max: 4 }),
  size: fc.integer({ min: 1, max: 12 }),
  steps: fc.array(fc.record({ kind: fc.nat(99), a: fc.nat(99), b: fc.nat(99) }), { maxLength: 10 }),
  graph: fc.boolean(),
  block: fc.boolean(),
  head: fc.nat(3),
  style: fc.record({
    eol: fc.constantFrom("\n" as const, "\r\n" as const, "\r" as const),
    indent: fc.integer({ min: 1, max: 4 }),
    comments: fc.boolean(),
    spelling: fc.array(fc.nat(99), { minLength: 1, maxLength: 16 }),
  }),
  train: fc.boolean(),
});

/** Valid `.net` programs: stacks, graphs with Add and Concat, blocks, criteria, training. */
export const programs: fc.Arbitrary<Program> = planArbitrary.map((plan) => ({
  text: render(plan),
  valid: true,
}));

type Shape = number[];

/** Writes a plan as a program, tracking the shape after every layer so that each one fits. */
function render(plan: Plan): string {
  let choice = 0;
  const pick = (n: number) => plan.style.spelling[choice++ % plan.style.spelling.length]! % n;
  // The same integer, spelt one of several ways the checker must evaluate alike.
  const int = (n: number): string => {
    switch (pick(6)) {
      case 1:
        return `(${n})`;
      case 2:
        return n > 1 ? `${n - 1} + 1` : `${n}`;
      case 3:
        return `2 * ${n} / 2`;
      case 4:
        return `- -${n}`;
      default:
        return `${n}`;
    }
  };
  const pad = " ".repeat(plan.style.indent);
  const lines: string[] = [];
  const line = (text: string) =>
    lines.push(pad + text + (plan.style.comments && pick(3) === 0 ? "  # note" : ""));
  if (plan.block) {
    lines.push("block Unit(c, k=3) {");
    lines.push(`${pad}SpatialConvolution(c, kernel=k, pad=(k - 1) / 2) -> ReLU`);
    lines.push("}", "");
  }
  lines.push("model Fuzzed {");
  let shape: Shape = plan.spatial
    ? [plan.channels, plan.size, plan.size]
    : [plan.channels * plan.size];
  line(`input x: [${shape.map(int).join(", ")}]`);
  let label = 0;
  let layers = 0;
  if (plan.graph && shape.length === 3) {
    const [c, h, w] = shape as [number, number, number];
    line(`a = x -> SpatialConvolution(${int(c)}, kernel=${int(1)})`);
    line(`b = x -> ReLU`);
    const concat = pick(2) === 0;
    line(concat ? "joined = Concat(a, b)" : "joined = Add(a, b)");
    shape = [concat ? 2 * c : c, h, w];
    line("joined -> Tanh");
    layers++;
  }
  for (const step of plan.steps) {
    const next = layer(shape, step, plan.block, int);
    if (!next) continue;
    const labeled = pick(4) === 0 ? `l${label++}: ` : "";
    // Now and then a ReLU (which keeps the shape) on a continued line, after `->`.
    const relu = pick(5) === 0 ? ` ->${plan.style.eol}${pad}${pad}ReLU` : "";
    // Now and then a layer that keeps its shape, repeated: a chain goes in parentheses, and a
    // count spelt as an expression too (`X * 2 + 1` would add to the repeat).
    const keeps = next.shape.length === shape.length && next.shape.every((d, i) => d === shape[i]);
    const times = keeps && pick(3) === 0 ? 1 + pick(3) : 0;
    const body = next.text.includes("->") ? `(${next.text})` : next.text;
    line(labeled + (times > 0 ? `${body} * (${int(times)})` : next.text) + relu);
    shape = next.shape;
    layers++;
  }
  if (layers === 0) line("ReLU");
  const criterion = head(shape, plan.head, line, int);
  lines.push("}", "", `criterion ${criterion}`);
  if (plan.train) {
    lines.push("", "train {", `${pad}optimizer = Adam(lr=0.001)`, `${pad}batch = ${int(8)}`, "}");
  }
  return lines.join(plan.style.eol) + plan.style.eol;
}

/** A layer that fits `shape`, chosen by `step`, or nothing when none of its kind does. */
function layer(
  shape: Shape,
  step: { kind: number; a: number; b: number },
  blocks: boolean,
  int: (n: number) => string,
): { text: string; shape: Shape } | undefined {
  const activations = [
    ...["ReLU", "Tanh", "Sigmoid", "ELU", "LeakyReLU(0.1)", "SoftPlus", "ReLU6", "HardTanh"],
    ...["SiLU", "GELU", "HardSigmoid", "HardSwish", "LogSigmoid", "SoftSign", "PReLU"],
  ];
  const activation = activations[step.a % activations.length]!;
  if (shape.length === 1) {
    const [f] = shape as [number];
    switch (step.kind % 5) {
      case 0:
        return { text: `Linear(${int(1 + (step.a % 12))})`, shape: [1 + (step.a % 12)] };
      case 1:
        return {
          text: `Linear(${int(f)} -> ${int(1 + (step.b % 8))}) -> ${activation}`,
          shape: [1 + (step.b % 8)],
        };
      case 2:
        return { text: step.b % 2 ? "LayerNormalization" : `BatchNormalization(${int(f)})`, shape };
      case 3:
        return { text: `Dropout(${((step.b % 5) + 1) / 10})`, shape };
      default:
        return { text: activation, shape };
    }
  }
  const [c, h, w] = shape as [number, number, number];
  switch (step.kind % 9) {
    case 0: {
      // Padded to keep the size.
      const out = 1 + (step.a % 6);
      const k = [1, 3, 5][step.b % 3]!;
      return {
        text: `SpatialConvolution(${int(out)}, kernel=${int(k)}, pad=${int((k - 1) / 2)})`,
        shape: [out, h, w],
      };
    }
    case 1: {
      // Strided: the windows may not tile the input, which is a warning only.
      const k = 1 + (step.a % 3);
      if (k > h || k > w) return undefined;
      const out = (n: number) => Math.floor((n - k) / 2) + 1;
      return {
        text: `SpatialConvolution(${int(c)} -> ${int(2)}, kernel=${int(k)}, stride=2)`,
        shape: [2, out(h), out(w)],
      };
    }
    case 2:
      if (h < 2 || w < 2) return undefined;
      return {
        text: `Spatial${step.a % 2 ? "Max" : "Average"}Pooling(2)`,
        shape: [c, Math.floor(h / 2), Math.floor(w / 2)],
      };
    case 3: {
      const norms = [
        "SpatialBatchNormalization",
        `SpatialBatchNormalization(${int(c)})`,
        `GroupNormalization(${int(1)})`,
        "InstanceNormalization(affine=true)",
      ];
      return { text: norms[step.a % norms.length]!, shape };
    }
    case 4:
      if (h * 2 > 24) return undefined;
      return { text: `SpatialUpSamplingNearest(${int(2)})`, shape: [c, 2 * h, 2 * w] };
    case 5:
      if (!blocks) return undefined;
      return {
        text: step.a % 2 ? `Unit(${int(3)})` : `Unit(${int(2)}, k=1)`,
        shape: [step.a % 2 ? 3 : 2, h, w],
      };
    case 6:
      if (h * 2 > 24) return undefined;
      return {
        text: `SpatialFullConvolution(${int(2)}, kernel=${int(2)}, stride=${int(2)})`,
        shape: [2, 2 * h, 2 * w],
      };
    case 7:
      return { text: `Dropout(${((step.b % 5) + 1) / 10}) -> ${activation}`, shape };
    default:
      return { text: step.a % 2 ? "Flatten" : `View(${int(c * h * w)})`, shape: [c * h * w] };
  }
}

/** The model's last layers and a criterion that fits them. */
function head(
  shape: Shape,
  kind: number,
  line: (text: string) => void,
  int: (n: number) => string,
): string {
  if (shape.length === 3 || kind === 0) return "MSE";
  const classes = 2 + (kind % 3);
  if (kind === 1) {
    line(`Linear(${int(classes)}) -> LogSoftMax`);
    return "NLL";
  }
  if (kind === 2) {
    line(`Linear(${int(classes)})`);
    return "CrossEntropy";
  }
  line(`Linear(${int(classes)}) -> Sigmoid`);
  return "BCE";
}
