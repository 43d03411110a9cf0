// Direct 2-D convolution: forward, input gradient and weight gradient, loops over output rows.
import type { ConvWindow } from "../../../ops.js";
import { jsActivation } from "./activations.js";
import { clearUnlessAccumulating, type KernelEmitter } from "./kernel.js";

/** `i·d`, or `i` alone where the taps are adjacent (the common case keeps its exact code). */
const times = (v: string, d: number): string => (d === 1 ? v : `${v} * ${d}`);

/**
 * For kernel column j, the output columns whose input column ow·SW − PW + j·DW lies inside the
 * image: the bounds of the innermost loop, so it needs no per-element test.
 */
function columnRange(d: ConvWindow): string {
  const j = times("j", d.DW);
  return `const lo = Math.max(0, Math.ceil((${d.PW} - ${j}) / ${d.SW})), hi = Math.min(${d.OW}, Math.floor((${d.W} - 1 + ${d.PW} - ${j}) / ${d.SW}) + 1);`;
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
 * The first input channel of output channel k's group, `c0`, and the channels of a group:
 * grouped convolutions (depthwise ones at one channel per group) run the same nest over their
 * group's channels only.
 */
function groupOf(d: ConvWindow): { c0: string; channels: number } {
  if (d.G === 1) return { c0: "", channels: d.C };
  return { c0: `const c0 = Math.floor(k / ${d.K / d.G}) * ${d.C / d.G};`, channels: d.C / d.G };
}

/**
 * for n, k (output plane at `yo` in tensor y); for c of k's group (input plane at `xo` in tensor
 * x); for each kernel tap (i, j); for each output row whose input row is inside the image; for
 * the output columns in range — the one loop nest of forward, input-gradient and weight-gradient
 * kernels.
 */
function tapLoops(d: ConvWindow, y: string, x: string, code: TapCode): string {
  const { c0, channels } = groupOf(d);
  const channel = d.G === 1 ? "c" : "c0 + c";
  return `for (let n = 0; n < N; n++) for (let k = 0; k < ${d.K}; k++) {
  const yo = ${y} + (n * ${d.K} + k) * ${d.OH * d.OW};
  ${code.plane ?? ""}${c0}
  for (let c = 0; c < ${channels}; c++) {
    const xo = ${x} + (n * ${d.C} + ${channel}) * ${d.H * d.W};
    for (let i = 0; i < ${d.KH}; i++) for (let j = 0; j < ${d.KW}; j++) {
      ${code.tap}
      ${columnRange(d)}
      for (let oh = 0; oh < ${d.OH}; oh++) {
        const ih = oh * ${d.SH} - ${d.PH} + ${times("i", d.DH)};
        if (ih < 0 || ih >= ${d.H}) continue;
        const yr = yo + oh * ${d.OW}, xr = xo + ih * ${d.W} - ${d.PW} + ${times("j", d.DW)};
        for (let ow = lo; ow < hi; ow++) ${code.inner}
      }
      ${code.afterTap ?? ""}
    }
  }
  ${code.afterPlane ?? ""}
}`;
}

/** w[k, c, i, j] in the weight [K, C/G, KH, KW], c counted within k's group. */
const weightAt = (d: ConvWindow) => `((k * ${d.C / d.G} + c) * ${d.KH} + i) * ${d.KW} + j`;

/**
 * y[n,k] = act(b[k] + Σ_c,i,j w[k,c,i,j] · x[n, c0+c, oh·SH−PH+i·DH, ow·SW−PW+j·DW]), c over k's
 * group, and with a second output z the value before act.
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
 * dx[n,c0+c, ih, iw] (+)= Σ_k,i,j w[k,c,i,j] · dy[n,k,oh,ow], scattered from each output row.
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

/** dw[k,c,i,j] = Σ_n,oh,ow dy[n,k,oh,ow] · x[n,c0+c, oh·SH−PH+i·DH, ow·SW−PW+j·DW] */
export const conv2dGradWeight: KernelEmitter<"conv2d_grad_weight"> = ({ ins, outs, a: d }) => {
  const [dy, x] = ins;
  const dw = outs[0]!;
  return `f.fill(0, ${dw}, ${dw} + ${(d.K * d.C * d.KH * d.KW) / d.G});
${tapLoops(d, dy!, x!, {
  tap: "let s = 0;",
  inner: `s += f[yr + ow] * f[xr + ow * ${d.SW}];`,
  afterTap: `f[${dw} + ${weightAt(d)}] += s;`,
})}`;
};
