// Direct 2-D convolution: forward, input gradient and weight gradient, loops over output rows.
import { activationCode, activationParams } from "./activations.js";
import { num, type EmitArgs, type KernelEmitter } from "./kernel.js";

/** The shape constants every convolution kernel reads. */
function dims(a: EmitArgs["a"]) {
  const d = {} as Record<
    "C" | "H" | "W" | "K" | "OH" | "OW" | "KH" | "KW" | "SH" | "SW" | "PH" | "PW",
    number
  >;
  for (const k of ["C", "H", "W", "K", "OH", "OW", "KH", "KW", "SH", "SW", "PH", "PW"] as const)
    d[k] = num(a, k);
  return d;
}

/**
 * For kernel column j, the output columns whose input column ow·SW − PW + j lies inside the
 * image: the bounds of the innermost loop, so it needs no per-element test.
 */
function columnRange(d: ReturnType<typeof dims>): string {
  return `const lo = Math.max(0, Math.ceil((${d.PW} - j) / ${d.SW})), hi = Math.min(${d.OW}, Math.floor((${d.W} - 1 + ${d.PW} - j) / ${d.SW}) + 1);`;
}

/** y[n,k] = act(b[k] + Σ_c,i,j w[k,c,i,j] · x[n,c, oh·SH−PH+i, ow·SW−PW+j]) */
export const conv2d: KernelEmitter = ({ ins, outs, a, acc }) => {
  const d = dims(a);
  const [x, w, b] = ins;
  const y = outs[0];
  const plane = d.OH * d.OW;
  const act = a["act"] ? activationCode[a["act"] as string]! : undefined;
  return `for (let n = 0; n < N; n++) for (let k = 0; k < ${d.K}; k++) {
  const yo = ${y} + (n * ${d.K} + k) * ${plane};
  ${
    acc
      ? ""
      : `const init = ${a["bias"] ? `f[${b} + k]` : "0"};
  for (let p = 0; p < ${plane}; p++) f[yo + p] = init;`
  }
  for (let c = 0; c < ${d.C}; c++) {
    const xo = ${x} + (n * ${d.C} + c) * ${d.H * d.W};
    for (let i = 0; i < ${d.KH}; i++) for (let j = 0; j < ${d.KW}; j++) {
      const wv = f[${w} + ((k * ${d.C} + c) * ${d.KH} + i) * ${d.KW} + j];
      ${columnRange(d)}
      for (let oh = 0; oh < ${d.OH}; oh++) {
        const ih = oh * ${d.SH} - ${d.PH} + i;
        if (ih < 0 || ih >= ${d.H}) continue;
        const yr = yo + oh * ${d.OW}, xr = xo + ih * ${d.W} - ${d.PW} + j;
        for (let ow = lo; ow < hi; ow++) f[yr + ow] += wv * f[xr + ow * ${d.SW}];
      }
    }
  }${act ? `\n  for (let p = yo; p < yo + ${plane}; p++) { const v = f[p]; f[p] = ${act.fwd("v", activationParams(a))}; }` : ""}
}`;
};

/**
 * dx[n,c, ih, iw] (+)= Σ_k,i,j w[k,c,i,j] · dy[n,k,oh,ow], scattered from each output row.
 * The same loops are a transposed convolution's forward pass, which starts from its bias.
 */
export const conv2dGradInput: KernelEmitter = ({ ins, outs, a, acc }) => {
  const d = dims(a);
  const [dy, w, b] = ins;
  const dx = outs[0];
  const zero = acc
    ? ""
    : a["bias"]
      ? `for (let nc = 0; nc < N * ${d.C}; nc++) f.fill(f[${b} + (nc % ${d.C})], ${dx} + nc * ${d.H * d.W}, ${dx} + (nc + 1) * ${d.H * d.W});\n`
      : `f.fill(0, ${dx}, ${dx} + N * ${d.C * d.H * d.W});\n`;
  return `${zero}for (let n = 0; n < N; n++) for (let k = 0; k < ${d.K}; k++) {
  const yo = ${dy} + (n * ${d.K} + k) * ${d.OH * d.OW};
  for (let c = 0; c < ${d.C}; c++) {
    const xo = ${dx} + (n * ${d.C} + c) * ${d.H * d.W};
    for (let i = 0; i < ${d.KH}; i++) for (let j = 0; j < ${d.KW}; j++) {
      const wv = f[${w} + ((k * ${d.C} + c) * ${d.KH} + i) * ${d.KW} + j];
      ${columnRange(d)}
      for (let oh = 0; oh < ${d.OH}; oh++) {
        const ih = oh * ${d.SH} - ${d.PH} + i;
        if (ih < 0 || ih >= ${d.H}) continue;
        const yr = yo + oh * ${d.OW}, xr = xo + ih * ${d.W} - ${d.PW} + j;
        for (let ow = lo; ow < hi; ow++) f[xr + ow * ${d.SW}] += wv * f[yr + ow];
      }
    }
  }
}`;
};

/** dw[k,c,i,j] = Σ_n,oh,ow dy[n,k,oh,ow] · x[n,c, oh·SH−PH+i, ow·SW−PW+j] */
export const conv2dGradWeight: KernelEmitter = ({ ins, outs, a }) => {
  const d = dims(a);
  const [dy, x] = ins;
  const dw = outs[0];
  return `for (let p = 0; p < ${d.K * d.C * d.KH * d.KW}; p++) f[${dw} + p] = 0;
for (let n = 0; n < N; n++) for (let k = 0; k < ${d.K}; k++) {
  const yo = ${dy} + (n * ${d.K} + k) * ${d.OH * d.OW};
  for (let c = 0; c < ${d.C}; c++) {
    const xo = ${x} + (n * ${d.C} + c) * ${d.H * d.W};
    for (let i = 0; i < ${d.KH}; i++) for (let j = 0; j < ${d.KW}; j++) {
      ${columnRange(d)}
      let s = 0;
      for (let oh = 0; oh < ${d.OH}; oh++) {
        const ih = oh * ${d.SH} - ${d.PH} + i;
        if (ih < 0 || ih >= ${d.H}) continue;
        const yr = yo + oh * ${d.OW}, xr = xo + ih * ${d.W} - ${d.PW} + j;
        for (let ow = lo; ow < hi; ow++) s += f[yr + ow] * f[xr + ow * ${d.SW}];
      }
      f[${dw} + ((k * ${d.C} + c) * ${d.KH} + i) * ${d.KW} + j] += s;
    }
  }
}`;
};
