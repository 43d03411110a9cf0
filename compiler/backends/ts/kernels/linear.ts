// Fully connected layer: forward (with bias and activation epilogue), input and weight gradients.
import { jsActivation } from "./activations.js";
import type { KernelEmitter } from "./kernel.js";

/** y[n,o] = act(b[o] + Σ_i w[o,i] · x[n,i]), and with a second output z the value before act. */
export const linear: KernelEmitter<"linear"> = ({ ins, outs, a }) => {
  const [x, w, b] = ins;
  const { I, O } = a;
  const value = a.act ? jsActivation(a.act, "s") : "s";
  const keep = outs[1] ? `f[${outs[1]} + n * ${O} + o] = s;\n    ` : "";
  return `for (let n = 0; n < N; n++) {
  const xo = ${x} + n * ${I};
  for (let o = 0; o < ${O}; o++) {
    const wo = ${w} + o * ${I};
    let s = ${a.bias ? `f[${b} + o]` : "0"};
    for (let i = 0; i < ${I}; i++) s += f[wo + i] * f[xo + i];
    ${keep}f[${outs[0]} + n * ${O} + o] = ${value};
  }
}`;
};

/**
 * Whether a run of values is all finite, as generated code: x · 0 is 0 for a finite x and NaN
 * otherwise. The gradients below skip a zero dy (after ReLU, often half of them), which is exact
 * only when what it multiplies is finite: 0 · ∞ is NaN, as in the WASM kernels and PyTorch.
 */
const allFinite = (start: string, length: number, indent = "") =>
  [
    "let zero = 0;",
    `for (let i = 0; i < ${length}; i++) zero += f[${start} + i] * 0;`,
    "const finite = zero === 0;",
  ].join(`\n${indent}`);

/** dx[n,i] (+)= Σ_o dy[n,o] · w[o,i] */
export const linearGradInput: KernelEmitter<"linear_grad_input"> = ({ ins, outs, a, acc }) => {
  const [dy, w] = ins;
  const { I, O } = a;
  return `${allFinite(String(w), O * I)}
for (let n = 0; n < N; n++) {
  const xo = ${outs[0]} + n * ${I};
  ${acc ? "" : `for (let i = 0; i < ${I}; i++) f[xo + i] = 0;`}
  for (let o = 0; o < ${O}; o++) {
    const g = f[${dy} + n * ${O} + o];
    if (g === 0 && finite) continue;
    const wo = ${w} + o * ${I};
    for (let i = 0; i < ${I}; i++) f[xo + i] += g * f[wo + i];
  }
}`;
};

/** dw[o,i] = Σ_n dy[n,o] · x[n,i] */
export const linearGradWeight: KernelEmitter<"linear_grad_weight"> = ({ ins, outs, a }) => {
  const [dy, x] = ins;
  const { I, O } = a;
  return `for (let p = 0; p < ${O * I}; p++) f[${outs[0]} + p] = 0;
for (let n = 0; n < N; n++) {
  const xo = ${x} + n * ${I};
  ${allFinite("xo", I, "  ")}
  for (let o = 0; o < ${O}; o++) {
    const g = f[${dy} + n * ${O} + o];
    if (g === 0 && finite) continue;
    const wo = ${outs[0]} + o * ${I};
    for (let i = 0; i < ${I}; i++) f[wo + i] += g * f[xo + i];
  }
}`;
};
