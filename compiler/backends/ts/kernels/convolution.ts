// Direct 2-D convolution: forward, input gradient and weight gradient, loops over output rows.
import type { Window } from "../../../ops.js";
import { jsActivation } from "./activations.js";
import { clearUnlessAccumulating, type KernelEmitter } from "./kernel.js";

/**
 * For kernel column j, the output columns whose input column ow·SW − PW + j lies inside the
 * image: the bounds of the innermost loop, so it needs no per-element test.
 */
function columnRange(d: Window): string {
  return `const lo = Math.max(0, Math.ceil((${d.PW} - j) / ${d.SW})), hi = Math.min(${d.OW}, Math.floor((${d.W} - 1 + ${d.PW} - j) / ${d.SW}) + 1);`;
}

/** Code spliced into the loop nest every convolution kernel shares. */
interface TapCode {
  /** Once per (n, k) output plane, with `yo` its offset. */
  plane?: string;
  /** Once per kernel tap (c, i, j). */
  tap: string;
  /** Innermost, once per output column `ow` of row `yr` reading input row `xr`. */
  inner: string;
  afterTap?: string;
  afterPlane?: string;
}

/**
 * for n, k (output plane at `yo` in tensor y); for c (input plane at `xo` in tensor x); for each
 * kernel tap (i, j); for each output row whose input row is inside the image; for the output
 * columns in range — the one loop nest of forward, input-gradient and weight-gradient kernels.
 */
function tapLoops(d: Window, y: string, x: string, code: TapCode): string {
  return `for (let n = 0; n < N; n++) for (let k = 0; k < ${d.K}; k++) {
  const yo = ${y} + (n * ${d.K} + k) * ${d.OH * d.OW};
  ${code.plane ?? ""}
  for (let c = 0; c < ${d.C}; c++) {
    const xo = ${x} + (n * ${d.C} + c) * ${d.H * d.W};
    for (let i = 0; i < ${d.KH}; i++) for (let j = 0; j < ${d.KW}; j++) {
      ${code.tap}
      ${columnRange(d)}
      for (let oh = 0; oh < ${d.OH}; oh++) {
        const ih = oh * ${d.SH} - ${d.PH} + i;
        if (ih < 0 || ih >= ${d.H}) continue;
        const yr = yo + oh * ${d.OW}, xr = xo + ih * ${d.W} - ${d.PW} + j;
        for (let ow = lo; ow < hi; ow++) ${code.inner}
      }
      ${code.afterTap ?? ""}
    }
  }
  ${code.afterPlane ?? ""}
}`;
}

const weightAt = (d: Window) => `((k * ${d.C} + c) * ${d.KH} + i) * ${d.KW} + j`;

/**
 * y[n,k] = act(b[k] + Σ_c,i,j w[k,c,i,j] · x[n,c, oh·SH−PH+i, ow·SW−PW+j]), and with a second
 * output z the value before act.
 */
export const conv2d: KernelEmitter<"conv2d"> = ({ ins, outs, a: d, acc }) => {
  const [x, w, b] = ins;
  const plane = d.OH * d.OW;
  const act = d.act;
  const keep = outs[1] ? `f[${outs[1]} - ${outs[0]} + p] = v; ` : "";
  const init = d.bias ? `f[${b} + k]` : "0";
  return tapLoops(d, outs[0]!, x!, {
    plane: acc ? "" : `for (let p = 0; p < ${plane}; p++) f[yo + p] = ${init};`,
    tap: `const wv = f[${w} + ${weightAt(d)}];`,
    inner: `f[yr + ow] += wv * f[xr + ow * ${d.SW}];`,
    afterPlane: act
      ? `for (let p = yo; p < yo + ${plane}; p++) { const v = f[p]; ${keep}f[p] = ${jsActivation(act, "v")}; }`
      : "",
  });
};

/**
 * dx[n,c, ih, iw] (+)= Σ_k,i,j w[k,c,i,j] · dy[n,k,oh,ow], scattered from each output row.
 * The same loops are a transposed convolution's forward pass, which starts from its bias.
 */
export const conv2dGradInput: KernelEmitter<"conv2d_grad_input"> = ({ ins, outs, a: d, acc }) => {
  const [dy, w, b] = ins;
  const dx = outs[0]!;
  const zero = acc
    ? ""
    : d.bias
      ? `for (let nc = 0; nc < N * ${d.C}; nc++) f.fill(f[${b} + (nc % ${d.C})], ${dx} + nc * ${d.H * d.W}, ${dx} + (nc + 1) * ${d.H * d.W});\n`
      : clearUnlessAccumulating(dx, `N * ${d.C * d.H * d.W}`, false);
  return (
    zero +
    tapLoops(d, dy!, dx, {
      tap: `const wv = f[${w} + ${weightAt(d)}];`,
      inner: `f[xr + ow * ${d.SW}] += wv * f[yr + ow];`,
    })
  );
};

/** dw[k,c,i,j] = Σ_n,oh,ow dy[n,k,oh,ow] · x[n,c, oh·SH−PH+i, ow·SW−PW+j] */
export const conv2dGradWeight: KernelEmitter<"conv2d_grad_weight"> = ({ ins, outs, a: d }) => {
  const [dy, x] = ins;
  const dw = outs[0]!;
  return `f.fill(0, ${dw}, ${dw} + ${d.K * d.C * d.KH * d.KW});
${tapLoops(d, dy!, x!, {
  tap: "let s = 0;",
  inner: `s += f[yr + ow] * f[xr + ow * ${d.SW}];`,
  afterTap: `f[${dw} + ${weightAt(d)}] += s;`,
})}`;
};
