// The activations' reference: each elementwise function with its derivative, and (log-)softmax.
import { activationRow, evaluate, type Activation } from "../ops.js";
import { size, type Args, type ReferenceContext, type ReferenceRule } from "./types.js";

/**
 * y = f(x) elementwise; dx = dy · f'(x): the activation's row (ops.ts) evaluated in double
 * precision, its derivative at y or at x as the row says.
 */
export function elementwiseReference(act: (args: Args) => Activation): ReferenceRule {
  const at = (args: Args) => {
    const a = act(args);
    const row = activationRow(a);
    const [f, df] = [row.f(a), row.df(a)];
    return {
      f: (x: number) => evaluate(f, x),
      df: (x: number) => evaluate(df, row.gradReads === "y" ? evaluate(f, x) : x),
    };
  };
  return {
    forward(c) {
      const { f } = at(c.args);
      return { y: c.x[0]!.map(f) };
    },
    backward(c) {
      const { df } = at(c.args);
      return { dx: [c.x[0]!.map((x, i) => c.dy[i]! * df(x))] };
    },
  };
}

/** Calls `visit` with the index of channel 0 at every (sample, position), channels S apart. */
function eachPosition(c: ReferenceContext, visit: (o: number, C: number, S: number) => void) {
  const C = c.output[0]!;
  const S = size(c.output.slice(1));
  for (let n = 0; n < c.N; n++) for (let s = 0; s < S; s++) visit(n * C * S + s, C, S);
}

/**
 * The softmax over channels at one position (shifted by the maximum, which cancels), of −x with
 * `negate`.
 */
function softmaxAt(x: Float64Array, o: number, C: number, S: number, negate = false): number[] {
  const at = (k: number) => (negate ? -x[o + k * S]! : x[o + k * S]!);
  let m = -Infinity;
  for (let k = 0; k < C; k++) m = Math.max(m, at(k));
  const e = [...Array(C).keys()].map((k) => Math.exp(at(k) - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/**
 * y_k = exp(x_k) / Σ_j exp(x_j); ∂y_j/∂x_k = y_j (δ_jk − y_k). With `negate` (SoftMin) of −x,
 * the derivative negated.
 */
export const softmaxReference = (negate: boolean): ReferenceRule => ({
  forward(c) {
    const y = new Float64Array(c.x[0]!.length);
    eachPosition(c, (o, C, S) =>
      softmaxAt(c.x[0]!, o, C, S, negate).forEach((p, k) => (y[o + k * S] = p)),
    );
    return { y };
  },
  backward(c) {
    const dx = new Float64Array(c.y.length);
    eachPosition(c, (o, C, S) => {
      for (let k = 0; k < C; k++)
        for (let j = 0; j < C; j++) {
          const yj = c.y[o + j * S]!;
          const d = c.dy[o + j * S]! * yj * ((j === k ? 1 : 0) - c.y[o + k * S]!);
          dx[o + k * S] += negate ? -d : d;
        }
    });
    return { dx: [dx] };
  },
});

/** y_k = log softmax(x)_k; ∂y_j/∂x_k = δ_jk − softmax(x)_k. */
export const logSoftmaxReference: ReferenceRule = {
  forward(c) {
    const y = new Float64Array(c.x[0]!.length);
    eachPosition(c, (o, C, S) => {
      let m = -Infinity;
      for (let k = 0; k < C; k++) m = Math.max(m, c.x[0]![o + k * S]!);
      let z = 0;
      for (let k = 0; k < C; k++) z += Math.exp(c.x[0]![o + k * S]! - m);
      for (let k = 0; k < C; k++) y[o + k * S] = c.x[0]![o + k * S]! - m - Math.log(z);
    });
    return { y };
  },
  backward(c) {
    const dx = new Float64Array(c.y.length);
    eachPosition(c, (o, C, S) => {
      const p = softmaxAt(c.x[0]!, o, C, S);
      for (let k = 0; k < C; k++)
        for (let j = 0; j < C; j++) dx[o + k * S] += c.dy[o + j * S]! * ((j === k ? 1 : 0) - p[k]!);
    });
    return { dx: [dx] };
  },
};
