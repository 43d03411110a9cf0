// Dropout in WASM: each element's mask from a hash of the pass's seed, the layer and its index
// (runtime/dropout.ts), four elements per instruction; the same masks as the JS kernel.
import { DROPOUT_STRIDE, dropoutThreshold } from "../../../../runtime/dropout.js";
import { CONTROL } from "../../../../runtime/wasm-layout.js";
import { f32, get, i32, loadF, loadV, mul, set, splat, storeF, storeV, sub } from "../builder.js";
import type { Expr } from "../encoder.js";
import { at, F32, overRun, type WasmKernel } from "./kernel.js";

type Ints = "i32" | "i32x4";

const op = (name: string, a: Expr, b: Expr): Expr => ({ op: name, a, b }) as Expr;
const int = (lanes: Ints, v: number): Expr =>
  lanes === "i32" ? i32(v) : { op: "i32x4.splat", a: i32(v) };
const xorShift = (lanes: Ints, x: Expr, by: number): Expr =>
  op(lanes === "i32" ? "i32.xor" : "v128.xor", x, op(`${lanes}.shr_u`, x, i32(by)));

/** splitmix32's finalizer of a local in place (each lane of one), as runtime/dropout.ts `mix32`. */
const mix = (lanes: Ints, h: number): Expr[] => [
  set(h, op(`${lanes}.mul`, xorShift(lanes, get(h), 16), int(lanes, 0x21f0aaad))),
  set(h, op(`${lanes}.mul`, xorShift(lanes, get(h), 15), int(lanes, 0x735a2d97))),
  set(h, xorShift(lanes, get(h), 15)),
];

/** The draw of a hash input in a local: mixed, then its top 24 bits (`dropoutDraw`). */
const draw = (lanes: Ints, h: number): Expr[] => [
  ...mix(lanes, h),
  set(h, op(`${lanes}.shr_u`, get(h), i32(8))),
];

/**
 * Training: mask = 0 where the element's draw is below p's threshold, 1/(1 − p) elsewhere, and
 * y = x · mask; evaluation: y = x. Threads split the batch; element i's hash input is
 * key + i·stride, carried along in a scalar and a four-lane counter.
 */
export const dropout: WasmKernel<"dropout"> = ({ fb, N, ins, outs, a, part, training }) => {
  const { size, p, salt } = a;
  const { lo, hi } = part(N);
  const [x, y, m, key, hs, hash] = fb.locals("i32", 6);
  const [hv, hashV, maskV] = fb.locals("v128", 3);
  const T = dropoutThreshold(p);
  const scale = 1 / (1 - p);
  const length = mul(sub(hi, lo), i32(size));
  const start = [set(x, at(ins[0]!, lo, size * F32)), set(y, at(outs[0]!, lo, size * F32))];
  // The key mixes the pass's seed with the layer's salt, as runtime/dropout.ts `dropoutKey`.
  const seed: Expr = { op: "i32.load", addr: i32(CONTROL.dropoutSeed), offset: 0 };
  // Lane l of the counter is element l ahead.
  const lanes = Int32Array.from([0, 1, 2, 3], (l) => Math.imul(l, DROPOUT_STRIDE));
  const masked = overRun(
    fb,
    length,
    [x, y, m],
    (o) => [
      set(hashV, get(hv)),
      ...draw("i32x4", hashV),
      set(maskV, {
        op: "v128.andnot",
        a: splat(f32(scale)),
        b: op("i32x4.lt_s", get(hashV), int("i32x4", T)),
      }),
      storeV(get(m), get(maskV), o),
      storeV(get(y), { op: "f32x4.mul", a: loadV(get(x), o), b: get(maskV) }, o),
      set(hv, op("i32x4.add", get(hv), int("i32x4", Math.imul(4, DROPOUT_STRIDE)))),
      set(hs, op("i32.add", get(hs), i32(Math.imul(4, DROPOUT_STRIDE)))),
    ],
    (o) => [
      set(hash, get(hs)),
      ...draw("i32", hash),
      storeF(
        get(m),
        { op: "select", a: f32(0), b: f32(scale), c: op("i32.lt_s", get(hash), i32(T)) },
        o,
      ),
      storeF(get(y), { op: "f32.mul", a: loadF(get(x), o), b: loadF(get(m), o) }, o),
      set(hs, op("i32.add", get(hs), i32(DROPOUT_STRIDE))),
    ],
  );
  const copied = overRun(
    fb,
    length,
    [x, y],
    (o) => [storeV(get(y), loadV(get(x), o), o)],
    (o) => [storeF(get(y), loadF(get(x), o), o)],
  );
  return [
    ...start,
    {
      op: "if",
      cond: training,
      then: [
        set(m, at(outs[1]!, lo, size * F32)),
        set(key, op("i32.xor", seed, i32(salt))),
        ...mix("i32", key),
        set(hs, op("i32.add", get(key), mul(mul(lo, i32(size)), i32(DROPOUT_STRIDE)))),
        set(hv, {
          op: "i32x4.add",
          a: { op: "i32x4.splat", a: get(hs) },
          b: { op: "v128.const", bytes: [...new Uint8Array(lanes.buffer)] },
        }),
        ...masked,
      ],
      else: copied,
    },
  ];
};

/** dx (+)= dy · mask, four at a time; threads split the batch. */
export const dropoutGrad: WasmKernel<"dropout_grad"> = ({ fb, N, ins, outs, a, acc, part }) => {
  const { lo, hi } = part(N);
  const [dy, m, dx] = fb.locals("i32", 3);
  const vector = (o: number): Expr => {
    const g: Expr = { op: "f32x4.mul", a: loadV(get(dy), o), b: loadV(get(m), o) };
    return storeV(get(dx), acc ? { op: "f32x4.add", a: loadV(get(dx), o), b: g } : g, o);
  };
  const scalar = (o: number): Expr => {
    const g: Expr = { op: "f32.mul", a: loadF(get(dy), o), b: loadF(get(m), o) };
    return storeF(get(dx), acc ? { op: "f32.add", a: loadF(get(dx), o), b: g } : g, o);
  };
  return [
    set(dy, at(ins[0]!, lo, a.size * F32)),
    set(m, at(ins[1]!, lo, a.size * F32)),
    set(dx, at(outs[0]!, lo, a.size * F32)),
    ...overRun(
      fb,
      mul(sub(hi, lo), i32(a.size)),
      [dy, m, dx],
      (o) => [vector(o)],
      (o) => [scalar(o)],
    ),
  ];
};
