// The kernel ops: every step the lowering may emit, declared once with typed attributes, and the
// activations as formulas. The ground floor of the compiler's back half: the catalog, the lowering
// and both backends read this file; it imports nothing.

// ---------------------------------------------------------------------------------------------
// Activations: one row each, its function and derivative written once as formulas that each
// backend renders (JavaScript text, WASM scalar and f32x4 code) and the reference evaluates.

/** An elementwise formula of one variable `v`: the input x, or in a derivative x or y. */
export type Formula =
  | { op: "v" }
  | { op: "const"; value: number }
  | { op: "add" | "sub" | "mul" | "div"; a: Formula; b: Formula }
  | { op: "neg" | "abs" | "exp" | "expm1" | "log1p" | "tanh" | "erf"; a: Formula }
  /** `a > b ? then : otherwise` (or `>=`); the comparison is false when either side is NaN. */
  | { op: "select"; cmp: ">" | ">="; a: Formula; b: Formula; then: Formula; otherwise: Formula };

/** Builders that keep the rows readable. */
export const F = {
  v: { op: "v" } as Formula,
  c: (value: number): Formula => ({ op: "const", value }),
  add: (a: Formula, b: Formula): Formula => ({ op: "add", a, b }),
  sub: (a: Formula, b: Formula): Formula => ({ op: "sub", a, b }),
  mul: (a: Formula, b: Formula): Formula => ({ op: "mul", a, b }),
  div: (a: Formula, b: Formula): Formula => ({ op: "div", a, b }),
  neg: (a: Formula): Formula => ({ op: "neg", a }),
  abs: (a: Formula): Formula => ({ op: "abs", a }),
  exp: (a: Formula): Formula => ({ op: "exp", a }),
  expm1: (a: Formula): Formula => ({ op: "expm1", a }),
  log1p: (a: Formula): Formula => ({ op: "log1p", a }),
  tanh: (a: Formula): Formula => ({ op: "tanh", a }),
  erf: (a: Formula): Formula => ({ op: "erf", a }),
  /** `a > b ? then : otherwise` */
  ifGreater: (a: Formula, b: Formula, then: Formula, otherwise: Formula): Formula => ({
    op: "select",
    cmp: ">",
    a,
    b,
    then,
    otherwise,
  }),
  /** `a >= b ? then : otherwise` */
  ifAtLeast: (a: Formula, b: Formula, then: Formula, otherwise: Formula): Formula => ({
    op: "select",
    cmp: ">=",
    a,
    b,
    then,
    otherwise,
  }),
};

/** An activation and its parameters, as a fused epilogue or a standalone step carries it. */
export type Activation =
  | { fn: "relu" }
  | { fn: "leaky_relu"; slope: number }
  | { fn: "elu"; alpha: number }
  | { fn: "sigmoid" }
  | { fn: "tanh" }
  | { fn: "softplus"; beta: number; threshold: number }
  | { fn: "hardtanh"; min: number; max: number }
  | { fn: "silu" }
  /** `tanh`: PyTorch's approximate='tanh'; otherwise the exact form through erf. */
  | { fn: "gelu"; tanh: boolean }
  | { fn: "hardsigmoid" }
  | { fn: "hardswish" }
  | { fn: "logsigmoid" }
  | { fn: "softsign" };

export type ActivationName = Activation["fn"];

export interface ActivationRow<A extends Activation = Activation> {
  /** y = f(x), with `v` the input x. */
  f(a: A): Formula;
  /** dy/dx, with `v` the output y where `gradReads` is "y", else the input x. */
  df(a: A): Formula;
  /**
   * "y": the derivative is a function of the output, so the input need not be kept and the
   * activation can be fused into the layer before it. "x": it cannot be told from y alone.
   */
  gradReads: "x" | "y";
}

const { v, c } = F;
const sigmoidOf = (x: Formula) => F.div(c(1), F.add(c(1), F.exp(F.neg(x))));

/** u clamped to [lo, hi] as PyTorch's clamp: a NaN u stays NaN. */
const clampOf = (u: Formula, lo: number, hi: number) =>
  F.ifGreater(c(lo), u, c(lo), F.ifGreater(u, c(hi), c(hi), u));
/** GELU's constants: √(2/π) and the cubic term's weight in the tanh form; 1/√2 in the exact. */
const GELU_BETA = Math.sqrt(2 / Math.PI);
const GELU_KAPPA = 0.044715;
const geluInner = F.mul(c(GELU_BETA), F.add(v, F.mul(c(GELU_KAPPA), F.mul(v, F.mul(v, v)))));
const geluErfArg = F.mul(v, c(Math.SQRT1_2));

// At a kink the derivative is PyTorch's choice: ReLU's is 0 at 0, LeakyReLU's and ELU's are the
// negative side's. NaN propagates as in PyTorch: ReLU's comparisons are written so that a NaN
// input gives NaN (clamp_min) and a NaN output passes dy through (threshold_backward).
export const activationRows: {
  [K in ActivationName]: ActivationRow<Extract<Activation, { fn: K }>>;
} = {
  relu: {
    f: () => F.ifGreater(c(0), v, c(0), v),
    df: () => F.ifAtLeast(c(0), v, c(0), c(1)),
    gradReads: "y",
  },
  leaky_relu: {
    f: (a) => F.ifGreater(v, c(0), v, F.mul(c(a.slope), v)),
    df: (a) => F.ifGreater(v, c(0), c(1), c(a.slope)),
    gradReads: "y",
  },
  elu: {
    f: (a) => F.ifGreater(v, c(0), v, F.mul(c(a.alpha), F.expm1(v))),
    df: (a) => F.ifGreater(v, c(0), c(1), F.add(v, c(a.alpha))),
    gradReads: "y",
  },
  sigmoid: { f: () => sigmoidOf(v), df: () => F.mul(v, F.sub(c(1), v)), gradReads: "y" },
  tanh: { f: () => F.tanh(v), df: () => F.sub(c(1), F.mul(v, v)), gradReads: "y" },
  // PyTorch's Softplus: x itself above the threshold, where its slope is 1. Which side of the
  // threshold a value came from cannot be told from y alone, so the gradient reads x.
  softplus: {
    f: (a) =>
      F.ifGreater(
        F.mul(c(a.beta), v),
        c(a.threshold),
        v,
        F.div(F.log1p(F.exp(F.mul(c(a.beta), v))), c(a.beta)),
      ),
    df: (a) =>
      F.ifGreater(F.mul(c(a.beta), v), c(a.threshold), c(1), sigmoidOf(F.mul(c(a.beta), v))),
    gradReads: "x",
  },
  // PyTorch's clamp (a NaN input stays NaN) and hardtanh_backward's vectorised loop (the one
  // tensors meet; its scalar tail differs at NaN): 1 strictly between the ends, 0 at and beyond
  // them and for NaN. y is at an end exactly where x is at or beyond it, so y tells.
  hardtanh: {
    f: (a) => clampOf(v, a.min, a.max),
    df: (a) => F.ifGreater(v, c(a.min), F.ifGreater(c(a.max), v, c(1), c(0)), c(0)),
    gradReads: "y",
  },
  // x · sigmoid(x), as PyTorch's silu: x / (1 + exp(−x)); its derivative is not a function of y
  // (SiLU is not monotonic).
  silu: {
    f: () => F.div(v, F.add(c(1), F.exp(F.neg(v)))),
    df: () => F.mul(sigmoidOf(v), F.add(c(1), F.mul(v, F.sub(c(1), sigmoidOf(v))))),
    gradReads: "x",
  },
  gelu: {
    f: (a) => F.mul(F.mul(c(0.5), v), F.add(c(1), a.tanh ? F.tanh(geluInner) : F.erf(geluErfArg))),
    df: (a) => {
      if (!a.tanh)
        // Φ(x) + x·φ(x)
        return F.add(
          F.mul(c(0.5), F.add(c(1), F.erf(geluErfArg))),
          F.mul(v, F.mul(F.exp(F.mul(c(-0.5), F.mul(v, v))), c(1 / Math.sqrt(2 * Math.PI)))),
        );
      // PyTorch's gelu_backward for 'tanh': ½(1 + t) + ½x·(1 − t²)·β·(1 + 3κx²), t = tanh(inner).
      const t = F.tanh(geluInner);
      const slope = F.mul(c(GELU_BETA), F.add(c(1), F.mul(c(3 * GELU_KAPPA), F.mul(v, v))));
      return F.add(
        F.mul(c(0.5), F.add(c(1), t)),
        F.mul(F.mul(c(0.5), v), F.mul(F.sub(c(1), F.mul(t, t)), slope)),
      );
    },
    gradReads: "x",
  },
  // PyTorch's min(max(x + 3, 0), 6) / 6; the derivative is 1/6 strictly inside (−3, 3), 0 at
  // the ends and for NaN (hardsigmoid_backward), which 0 < y < 1 tells.
  hardsigmoid: {
    f: () => F.div(clampOf(F.add(v, c(3)), 0, 6), c(6)),
    // PyTorch's 1/6 here is the float 1.0f / 6.0f, in double precision too.
    df: () => F.ifGreater(v, c(0), F.ifGreater(c(1), v, c(Math.fround(1 / 6)), c(0)), c(0)),
    gradReads: "y",
  },
  // x · min(max(x + 3, 0), 6) / 6; the derivative of PyTorch's vectorised loop (its scalar tail
  // differs at 3 and NaN): 0 below −3, 1 from 3 on, x/3 + ½ between and for NaN.
  hardswish: {
    f: () => F.div(F.mul(v, clampOf(F.add(v, c(3)), 0, 6)), c(6)),
    df: () =>
      F.ifGreater(c(-3), v, c(0), F.ifAtLeast(v, c(3), c(1), F.add(F.div(v, c(3)), c(0.5)))),
    gradReads: "x",
  },
  // min(x, 0) − log(1 + exp(−|x|)), stable at both ends as PyTorch's. Its derivative
  // sigmoid(−x) = 1 − exp(y) is −expm1(y): exact where it is tiny (large x) too.
  logsigmoid: {
    f: () => F.sub(F.ifGreater(v, c(0), c(0), v), F.log1p(F.exp(F.neg(F.abs(v))))),
    df: () => F.neg(F.expm1(v)),
    gradReads: "y",
  },
  // x / (1 + |x|); 1 / (1 + |x|)² = (1 − |y|)².
  softsign: {
    f: () => F.div(v, F.add(c(1), F.abs(v))),
    df: () => F.mul(F.sub(c(1), F.abs(v)), F.sub(c(1), F.abs(v))),
    gradReads: "y",
  },
};

export const activationRow = <A extends Activation>(a: A): ActivationRow<A> =>
  activationRows[a.fn] as ActivationRow as ActivationRow<A>;

/**
 * erf(x) in double precision (JavaScript has none), within 8 ulp of glibc's over [−6, 6]: ±1
 * from |x| = 6 on (erfc(6) < 2.2·10⁻¹⁷); from 1.5 on, 1 − erfc(|x|) with erfc by its continued
 * fraction (120 terms, evaluated from the last back: converged there); below, the series
 * 2/√π · exp(−x²) · Σ 2ⁿx²ⁿ⁺¹ / (1·3·…·(2n + 1)), whose terms all have x's sign (no
 * cancellation). Self-contained, so that the TS backend can emit its source into the kernels.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a >= 6) return Math.sign(x);
  if (a >= 1.5) {
    let t = a;
    for (let k = 120; k >= 1; k--) t = a + k / 2 / t;
    return Math.sign(x) * (1 - Math.exp(-a * a) / (1.772453850905516 * t));
  }
  let term = x;
  let sum = x;
  for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return 1.1283791670955126 * Math.exp(-x * x) * sum;
}

/** A formula's value in double precision at `v`: the reference interpreter's reading of a row. */
export function evaluate(f: Formula, x: number): number {
  switch (f.op) {
    case "v":
      return x;
    case "const":
      return f.value;
    case "add":
      return evaluate(f.a, x) + evaluate(f.b, x);
    case "sub":
      return evaluate(f.a, x) - evaluate(f.b, x);
    case "mul":
      return evaluate(f.a, x) * evaluate(f.b, x);
    case "div":
      return evaluate(f.a, x) / evaluate(f.b, x);
    case "neg":
      return -evaluate(f.a, x);
    case "abs":
      return Math.abs(evaluate(f.a, x));
    case "exp":
      return Math.exp(evaluate(f.a, x));
    case "expm1":
      return Math.expm1(evaluate(f.a, x));
    case "log1p":
      return Math.log1p(evaluate(f.a, x));
    case "tanh":
      return Math.tanh(evaluate(f.a, x));
    case "erf":
      return erf(evaluate(f.a, x));
    case "select": {
      const [a, b] = [evaluate(f.a, x), evaluate(f.b, x)];
      return (f.cmp === ">" ? a > b : a >= b) ? evaluate(f.then, x) : evaluate(f.otherwise, x);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Attributes: plain numbers, flags, enums and activation rows; everything a kernel specialises on.

/** A window over [C, H, W] giving [K, OH, OW]: convolutions (K filters) and pooling (K = C). */
export interface Window {
  C: number;
  H: number;
  W: number;
  K: number;
  OH: number;
  OW: number;
  KH: number;
  KW: number;
  SH: number;
  SW: number;
  PH: number;
  PW: number;
}

/**
 * Average pooling's windows, and where windows divide by different counts (ceil-mode windows
 * running past the padding, or padding left out of the count) each output position's divisor,
 * OH·OW of them for every plane; without them every window divides by KH·KW.
 */
export interface MeanWindow extends Window {
  divisors?: readonly number[];
}

/** What a convolution or Linear adds in its output loop: a bias, then an activation. */
export interface Epilogue {
  bias: boolean;
  act?: Activation;
}

/** Per sample: C channels of S positions each (C·S values). */
export interface Channels {
  C: number;
  S: number;
}

/** A criterion term on an output of C channels × S positions (P = C·S values), times `weight`. */
export interface LossAttrs extends Channels {
  P: number;
  weight: number;
}

/**
 * PyTorch's options of NLLLoss and CrossEntropyLoss: a weight per class (the mean divides by the
 * sum of the counted targets' weights), a target class that counts for nothing, and CrossEntropy's
 * label smoothing (0 for NLL).
 */
export interface ClassLossAttrs extends LossAttrs {
  classWeights: readonly number[] | undefined;
  ignore: number | undefined;
  smoothing: number;
}

/** SmoothL1: 0.5·d²/β where |d| < β, else |d| − 0.5·β (L1 at β = 0). */
export interface SmoothL1Attrs extends LossAttrs {
  beta: number;
}

/**
 * BCEWithLogits: PyTorch's `pos_weight` per channel (one weight, or one per channel C), or
 * undefined for 1.
 */
export interface BCELogitsAttrs extends LossAttrs {
  posWeight: readonly number[] | undefined;
}

/** KLDiv: the target holds log-probabilities (PyTorch's `log_target`). */
export interface KLDivAttrs extends LossAttrs {
  logTarget: boolean;
}

/** Where a class criterion's gradient starts: NLL alone, NLL fused with its LogSoftMax, or CrossEntropy. */
export type ClassLossMode = "nll" | "log_softmax_nll" | "cross_entropy";

/** SoftMax over channels, of −x for SoftMin (softmin(x) = softmax(−x)). */
export interface Softmax extends Channels {
  negate: boolean;
}

/** PReLU over C channels of S positions: `shared`, one weight for all channels. */
export interface PReLU extends Channels {
  shared: boolean;
}

export interface BatchNormAttrs extends Channels {
  eps: number;
  momentum: number;
  affine: boolean;
}

/**
 * Group normalisation of C channels of S positions in G groups of C/G neighbouring channels:
 * statistics per sample and group (over (C/G)·S values), then a scale and shift per channel.
 * LayerNorm is one group with every value its own channel (C the per-sample size, S = 1), so
 * that its elementwise affine is the per-channel one; InstanceNorm is G = C.
 */
export interface GroupNormAttrs extends Channels {
  G: number;
  eps: number;
  affine: boolean;
}

/** An input of a broadcast: its per-sample size and its stride along each dim (0: broadcast). */
export interface BroadcastInput {
  size: number;
  strides: readonly number[];
}

/**
 * Elementwise over the output's per-sample `dims` (adjacent dims merged where both inputs step
 * alike), each input read through its strides; the batch is never broadcast.
 */
export interface Broadcast {
  dims: readonly number[];
  a: BroadcastInput;
  b: BroadcastInput;
}

/**
 * A broadcast input's gradient: dy (times the other input for a product) summed over the dims
 * `x` is broadcast along.
 */
export interface BroadcastGrad {
  dims: readonly number[];
  x: BroadcastInput;
  /** The other factor of a product; absent for a sum. */
  other?: BroadcastInput;
}

export interface Dense {
  /** Input and output features. */
  I: number;
  O: number;
}

/**
 * Adaptive pooling of [C, H, W] to [C, OH, OW]: output row i's window spans input rows
 * ⌊i·H/OH⌋ to ⌈(i+1)·H/OH⌉ (exclusive), and likewise for columns (PyTorch's rule).
 */
export interface AdaptiveWindow {
  C: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
}

/** The input range [start, end) of adaptive window `i` of `out` over `size` positions. */
export const adaptiveRange = (i: number, size: number, out: number): [number, number] => [
  Math.floor((i * size) / out),
  Math.ceil(((i + 1) * size) / out),
];

/** How a padding layer fills its border: zeros, the mirror image without the edge, or the edge. */
export type PadMode = "zero" | "reflect" | "replicate";

/** [C, H, W] padded to [C, top + H + bottom, left + W + right]; a negative zero padding crops. */
export interface Padding {
  C: number;
  H: number;
  W: number;
  top: number;
  bottom: number;
  left: number;
  right: number;
  mode: PadMode;
}

/**
 * The input index an output position `o` (counted from the input's first, so negative in the
 * leading border) reads along a dimension of `size`; −1 for a zero.
 */
export function padSource(o: number, size: number, mode: PadMode): number {
  if (o >= 0 && o < size) return o;
  if (mode === "zero") return -1;
  if (mode === "replicate") return o < 0 ? 0 : size - 1;
  return o < 0 ? -o : 2 * (size - 1) - o;
}

/** Bilinear upsampling of [C, H, W] by an integer factor, corners aligned or not. */
export interface Bilinear {
  C: number;
  H: number;
  W: number;
  scale: number;
  alignCorners: boolean;
}

/** Where output position `o` reads along a dimension: two inputs and their weights. */
export interface BilinearTap {
  i0: number;
  i1: number;
  l0: number;
  l1: number;
}

/**
 * PyTorch's linear interpolation source (upsample_bilinear2d with a scale factor): with aligned
 * corners the first and last outputs sit on the first and last inputs; without, output o's
 * centre maps to (o + ½)/scale − ½, clamped at 0. The second input is the next one, or the last
 * again at the end.
 */
export function bilinearTaps(size: number, scale: number, alignCorners: boolean): BilinearTap[] {
  const out = size * scale;
  return Array.from({ length: out }, (_, o) => {
    const source = alignCorners
      ? (out > 1 ? (size - 1) / (out - 1) : 0) * o
      : Math.max(0, (1 / scale) * (o + 0.5) - 0.5);
    const i0 = Math.floor(source);
    const l1 = Math.min(Math.max(source - i0, 0), 1);
    return { i0, i1: i0 < size - 1 ? i0 + 1 : i0, l0: 1 - l1, l1 };
  });
}

export interface Upsample {
  C: number;
  H: number;
  W: number;
  scale: number;
}

/**
 * Every kernel op by name with its attributes. Tensors are in `inputs` and `outputs` of the step
 * in the order given; a gradient output of −1 is not needed. `accumulate` on a step adds into its
 * first output; the joins' gradients carry one flag per input.
 */
export interface OpAttrs {
  /** x → y = act(x), `size` values per sample. */
  activation: { act: Activation; size: number };
  /**
   * (y or x, dy) → (dx, db): dx = dy·act'(·) (dx may be dy itself) and the bias gradient summed
   * per channel; without `act` only the bias gradient, without `bias` only dx.
   */
  activation_grad: Channels & Epilogue;
  /**
   * (x, w, b?) → (y, z?): a convolution with its epilogue; z, when asked for, keeps the value
   * before the activation (for one whose derivative reads its input).
   */
  conv2d: Window & Epilogue;
  /** (dy, w, b?) → dx; with `bias`, dx starts from it (a transposed convolution's forward). */
  conv2d_grad_input: Window & { bias: boolean };
  /** (dy, x) → dw */
  conv2d_grad_weight: Window;
  /** (x, w, b?) → (y, z?), z as conv2d's */
  linear: Dense & Epilogue;
  /** (dy, w) → dx */
  linear_grad_input: Dense;
  /** (dy, x) → dw */
  linear_grad_weight: Dense;
  /** x → y */
  max_pool: Window;
  /** (x, y, dy) → dx: the gradient goes to the first maximum of each window. */
  max_pool_grad: Window;
  /** x → y: the sum of each window over its divisor. */
  avg_pool: MeanWindow;
  /** dy → dx */
  avg_pool_grad: MeanWindow;
  /** x → y: the maximum of each adaptive window. */
  adaptive_max_pool: AdaptiveWindow;
  /** (x, y, dy) → dx: the gradient goes to the first maximum of each window. */
  adaptive_max_pool_grad: AdaptiveWindow;
  /** x → y: the mean of each adaptive window. */
  adaptive_avg_pool: AdaptiveWindow;
  /** dy → dx */
  adaptive_avg_pool_grad: AdaptiveWindow;
  /** x → y */
  pad: Padding;
  /** dy → dx: each output position's gradient added to the input it copies. */
  pad_grad: Padding;
  /** x → y over the C channels at each position; with `negate` of −x (SoftMin). */
  softmax: Softmax;
  /** (y, dy) → dx */
  softmax_grad: Softmax;
  log_softmax: Channels;
  /** (y, dy) → dx */
  log_softmax_grad: Channels;
  /** (log-probabilities, class targets) → loss (added to by every term after the first). */
  nll: ClassLossAttrs;
  /** (scores, class targets) → loss */
  cross_entropy: ClassLossAttrs;
  /** (x, class targets) → dx */
  class_loss_grad: ClassLossAttrs & { mode: ClassLossMode };
  /** (x, targets) → loss */
  mse: LossAttrs;
  mse_grad: LossAttrs;
  bce: LossAttrs;
  bce_grad: LossAttrs;
  /** (x, targets) → loss: SmoothL1 with its β; L1 is β = 0, as in PyTorch. */
  smooth_l1: SmoothL1Attrs;
  smooth_l1_grad: SmoothL1Attrs;
  /** (scores, targets in [0, 1]) → loss, each channel's positives weighted. */
  bce_logits: BCELogitsAttrs;
  bce_logits_grad: BCELogitsAttrs;
  /** (log-probabilities, targets) → loss, summed over each sample and averaged over the batch. */
  kl_div: KLDivAttrs;
  kl_div_grad: KLDivAttrs;
  /** (x1, x2, …) → y = Σ xi */
  add: { size: number };
  /** dy → (dx1, dx2, …), each set or added to as its flag says. */
  add_grad: { size: number; accumulate: readonly boolean[] };
  /** (a, b) → y = a + b broadcast; y may be a itself (a sum of more values, term by term). */
  broadcast_add: Broadcast;
  /** (a, b) → y = a · b broadcast */
  broadcast_mul: Broadcast;
  /** (dy, other?) → dx */
  broadcast_grad: BroadcastGrad;
  /** (x1, x2, …) → y, joined per sample; `sizes` per sample. */
  concat: { sizes: readonly number[] };
  concat_grad: { sizes: readonly number[]; accumulate: readonly boolean[] };
  upsample_nearest: Upsample;
  /** dy → dx */
  upsample_nearest_grad: Upsample;
  /** x → y: each output the weighted mean of its four nearest inputs. */
  upsample_bilinear: Bilinear;
  /** dy → dx: each output's gradient spread over its four inputs by their weights. */
  upsample_bilinear_grad: Bilinear;
  /** → t = 0: `size` values, times the batch when `perSample`. */
  zero: { size: number; perSample: boolean };
  /** (x, gamma?, beta?, running mean, running var) → (y, mean, invstd) */
  batch_norm: BatchNormAttrs;
  /** (x, gamma?, mean, invstd, dy) → (dx, dgamma?, dbeta?) */
  batch_norm_grad: BatchNormAttrs;
  /** (x, weight?, bias?) → (y, mean, invstd): mean and invstd per sample and group. */
  group_norm: GroupNormAttrs;
  /** (x, weight?, mean, invstd, dy) → dx */
  group_norm_grad: GroupNormAttrs;
  /** (x, mean, invstd, dy) → (dweight, dbias): summed over the batch per channel. */
  group_norm_grad_params: GroupNormAttrs;
  /**
   * x → (y, mask): while training, mask 0 with probability p, else 1/(1 − p), drawn by a hash
   * of the pass's seed, the layer's `salt` and the element's index (runtime/dropout.ts).
   */
  dropout: { p: number; size: number; salt: number };
  /** (dy, mask) → dx */
  dropout_grad: { size: number };
  /** (x, weight) → y = x if x > 0, else weight[c]·x: one weight per channel, or one in all. */
  prelu: PReLU;
  /** (x, weight, dy) → (dx, dweight): either may be −1, not needed. */
  prelu_grad: PReLU;
}

export type OpName = keyof OpAttrs;

/** One line per op, keyed by every op: the list a backend's coverage is measured against. */
export const opSummaries: { readonly [K in OpName]: string } = {
  activation: "elementwise activation",
  activation_grad: "activation derivative and bias gradient",
  conv2d: "2-D convolution with bias and activation",
  conv2d_grad_input: "convolution input gradient (transposed convolution)",
  conv2d_grad_weight: "convolution weight gradient",
  linear: "fully connected layer with bias and activation",
  linear_grad_input: "Linear input gradient",
  linear_grad_weight: "Linear weight gradient",
  max_pool: "max pooling",
  max_pool_grad: "max pooling gradient",
  avg_pool: "average pooling",
  avg_pool_grad: "average pooling gradient",
  adaptive_max_pool: "adaptive max pooling",
  adaptive_max_pool_grad: "adaptive max pooling gradient",
  adaptive_avg_pool: "adaptive average pooling",
  adaptive_avg_pool_grad: "adaptive average pooling gradient",
  pad: "zero, reflection or replication padding",
  pad_grad: "padding gradient",
  softmax: "softmax over channels",
  softmax_grad: "softmax gradient",
  log_softmax: "log-softmax over channels",
  log_softmax_grad: "log-softmax gradient",
  nll: "negative log-likelihood",
  cross_entropy: "cross-entropy on scores",
  class_loss_grad: "class criterion gradient",
  mse: "mean squared error",
  mse_grad: "mean squared error gradient",
  bce: "binary cross-entropy",
  bce_grad: "binary cross-entropy gradient",
  smooth_l1: "smooth L1 (Huber over β)",
  smooth_l1_grad: "smooth L1 gradient",
  bce_logits: "binary cross-entropy on scores",
  bce_logits_grad: "binary cross-entropy on scores gradient",
  kl_div: "Kullback-Leibler divergence",
  kl_div_grad: "Kullback-Leibler divergence gradient",
  add: "elementwise sum",
  add_grad: "elementwise sum gradient",
  broadcast_add: "broadcast sum",
  broadcast_mul: "broadcast product",
  broadcast_grad: "broadcast sum or product gradient",
  concat: "concatenation along channels",
  concat_grad: "concatenation gradient",
  upsample_nearest: "nearest upsampling",
  upsample_nearest_grad: "nearest upsampling gradient",
  upsample_bilinear: "bilinear upsampling",
  upsample_bilinear_grad: "bilinear upsampling gradient",
  zero: "zero fill",
  batch_norm: "batch normalisation",
  batch_norm_grad: "batch normalisation gradient",
  group_norm: "group, layer and instance normalisation",
  group_norm_grad: "group normalisation input gradient",
  group_norm_grad_params: "group normalisation scale and shift gradients",
  dropout: "dropout",
  dropout_grad: "dropout gradient",
  prelu: "parametric ReLU",
  prelu_grad: "parametric ReLU gradient",
};

export const opNames = Object.keys(opSummaries) as OpName[];

/** A kernel step of op K: its tensors by id and its attributes. */
export interface StepOf<K extends OpName> {
  kernel: K;
  inputs: number[];
  outputs: number[];
  attrs: OpAttrs[K];
  /** Add into the first output instead of overwriting it (a gradient reaching a value twice). */
  accumulate: boolean;
  /** The layers (and criterion) the step computes: one, or several fused into it. */
  layers: readonly string[];
}

export type Step = { [K in OpName]: StepOf<K> }[OpName];

/** A step of a generic op K is one member of the union; TypeScript cannot see it by itself. */
export const step = <K extends OpName>(s: StepOf<K>): Step => s as unknown as Step;
