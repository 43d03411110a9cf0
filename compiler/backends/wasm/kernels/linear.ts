// Fully connected layer on WASM: forward with its bias and activation epilogue (dot-product
// tiles, no packing), and the input and weight gradients (outer-product tiles on unpacked rows).
// Threads split the batch rows, or the weight gradient's output rows.
import { sub } from "../builder.js";
import { dotProduct, outerProduct } from "../tiles.js";
import { wasmActivation } from "./activations.js";
import { at, F32, type WasmKernel } from "./kernel.js";

/** y[n,o] = act(b[o] + Σ_i w[o,i] · x[n,i]), and with a second output z the value before act. */
export const linear: WasmKernel<"linear"> = ({ fb, N, ins, outs, a, part }) => {
  const act = wasmActivation(fb, a.act);
  const [x, w, b] = ins;
  const { I, O } = a;
  const { lo, hi } = part(N);
  return dotProduct(fb, {
    M: sub(hi, lo),
    cols: O,
    L: I,
    a: { base: at(x!, lo, I * F32), row: I * F32 },
    b: { base: w!, k: I * F32 },
    c: { base: at(outs[0]!, lo, O * F32), row: O * F32, col: F32, mode: "set" },
    ...(a.bias ? { bias: b! } : {}),
    act: act.scalar,
    // The value before the activation, for one whose derivative reads it.
    ...(outs[1] ? { keep: sub(outs[1], outs[0]!) } : {}),
  });
};

/** dx[n,i] (+)= Σ_o dy[n,o] · w[o,i] */
export const linearGradInput: WasmKernel<"linear_grad_input"> = ({
  fb,
  N,
  ins,
  outs,
  a,
  acc,
  part,
  scratch,
}) => {
  const [dy, w] = ins;
  const { I, O } = a;
  const { lo, hi } = part(N);
  return outerProduct(fb, {
    M: sub(hi, lo),
    cols: I,
    K: O,
    a: { base: at(dy!, lo, O * F32), row: O * F32, k: F32 },
    b: { base: w!, k: I * F32 },
    c: { base: at(outs[0]!, lo, I * F32), row: I * F32, mode: acc ? "add" : "set", padded: false },
    // Packed panels of w: +12% on the mlp's fc1 (docs/wasm-backend.md).
    pack: scratch(O * 32),
  });
};

/** dw[o,i] = Σ_n dy[n,o] · x[n,i]: each thread owns rows of dw and sums over the whole batch. */
export const linearGradWeight: WasmKernel<"linear_grad_weight"> = ({
  fb,
  N,
  ins,
  outs,
  a,
  part,
}) => {
  const [dy, x] = ins;
  const { I, O } = a;
  const { lo, hi } = part(O);
  return outerProduct(fb, {
    M: sub(hi, lo),
    cols: I,
    K: N,
    a: { base: at(dy!, lo, F32), row: F32, k: O * F32 },
    b: { base: x!, k: I * F32 },
    c: { base: at(outs[0]!, lo, I * F32), row: I * F32, mode: "set", padded: false },
  });
};
