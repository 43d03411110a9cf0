// The optimizer's update in WASM (SGD, Adam and AdamW, RMSprop, Adagrad) over the flat parameter
// buffer, and the clipping of the gradients by their norm that precedes it: float32, four
// parameters per instruction, each thread over its share.
import {
  add,
  f32,
  FuncBuilder,
  get,
  hsum,
  i32,
  loadF,
  loadI,
  loadV,
  mul,
  SCALAR,
  set,
  splat,
  storeF,
  sub,
  VECTOR,
  ZERO_V,
  type Lanes,
} from "./builder.js";
import type { Expr, Func } from "./encoder.js";
import { at, overRun } from "./kernels/kernel.js";
import {
  CONTROL,
  OPTIMIZER_SLOTS,
  UPDATE_RULES,
  type UpdateRule,
} from "../../../runtime/wasm-layout.js";
import { CLIP_EPSILON } from "../../../runtime/optimizers.js";

const F32 = 4;
/** Every phase takes (N, count, thread, threads). */
const ENTRY = ["i32", "i32", "i32", "i32"] as const;
const slot = (name: keyof typeof OPTIMIZER_SLOTS): Expr =>
  i32(CONTROL.optimizer + 4 * OPTIMIZER_SLOTS[name]);

/**
 * This thread's share [lo, lo + n) of `count` floats, cut at multiples of four (in groups of
 * four, so that count · thread stays within 32 bits). The clipping and the update cut alike: a
 * thread scales the gradients it then updates from, with no barrier between.
 */
function share(fb: FuncBuilder, count: number): { lo: number; n: number; prologue: Expr[] } {
  const [tid, T] = [get(2), get(3)];
  const [lo, hi, n] = fb.locals("i32", 3);
  const cut = (t: Expr): Expr => mul({ op: "i32.div_u", a: mul(i32(count >> 2), t), b: T }, i32(4));
  const next = add(tid, i32(1));
  return {
    lo,
    n,
    prologue: [
      set(lo, cut(tid)),
      set(hi, { op: "select", a: i32(count), b: cut(next), c: { op: "i32.eq", a: next, b: T } }),
      set(n, sub(get(hi), get(lo))),
    ],
  };
}

/** The float hyperparameters the rules read, each loaded once into a local of either width. */
const HYPER = [
  "lr",
  "momentum",
  "weightDecay",
  "beta1",
  "oneMinusBeta1",
  "beta2",
  "oneMinusBeta2",
  "eps",
  "stepSize",
  "correction2",
  "decay",
  "alpha",
  "oneMinusAlpha",
] as const;
type Hyper = (typeof HYPER)[number];

/** What a rule's body sees at one element (`off` bytes past the pointers) and one width. */
interface At {
  o: Lanes;
  load(ptr: Pointer): Expr;
  store(ptr: Pointer, value: Expr): Expr;
  h(name: Hyper): Expr;
  /** Nesterov's flag at this width: an i32 for `select`, a lane mask for `bitselect`. */
  nesterov: Expr;
  /** A fresh local of this width. */
  local(): number;
}
/** The parameters, gradients and the state buffers in `stateNames` order. */
type Pointer = "p" | "g" | 0 | 1 | 2;

/** d = g + weight_decay·p, the gradient with the L2 penalty (0 when none). */
const decayed = (x: At, p: Expr = x.load("p")): Expr =>
  x.o.add(x.load("g"), x.o.mul(x.h("weightDecay"), p));

/** The loop body of each rule: PyTorch 1.13's single-tensor update, in float32. */
const rules: Record<UpdateRule, (x: At) => Expr[]> = {
  sgd: (x) => [x.store("p", x.o.sub(x.load("p"), x.o.mul(x.h("lr"), decayed(x))))],
  sgdMomentum: (x) => {
    const { o } = x;
    const [d, b] = [x.local(), x.local()];
    return [
      set(d, decayed(x)),
      // A zero buffer makes the first step's buf = d, as PyTorch's clone of d.
      set(b, o.add(o.mul(x.h("momentum"), x.load(0)), get(d))),
      x.store(0, get(b)),
      set(d, o.select(o.add(get(d), o.mul(x.h("momentum"), get(b))), get(b), x.nesterov)),
      x.store("p", o.sub(x.load("p"), o.mul(x.h("lr"), get(d)))),
    ];
  },
  adam: (x) => {
    const { o } = x;
    const [p, d, m, v] = [x.local(), x.local(), x.local(), x.local()];
    return [
      // AdamW's decay of the parameters (1 for Adam, whose decay is in the gradient).
      set(p, o.mul(x.load("p"), x.h("decay"))),
      set(d, decayed(x, get(p))),
      set(m, o.add(o.mul(x.h("beta1"), x.load(0)), o.mul(x.h("oneMinusBeta1"), get(d)))),
      set(
        v,
        o.add(o.mul(x.h("beta2"), x.load(1)), o.mul(o.mul(x.h("oneMinusBeta2"), get(d)), get(d))),
      ),
      x.store(0, get(m)),
      x.store(1, get(v)),
      x.store(
        "p",
        o.sub(
          get(p),
          o.div(
            o.mul(x.h("stepSize"), get(m)),
            o.add(o.div(o.sqrt(get(v)), x.h("correction2")), x.h("eps")),
          ),
        ),
      ),
    ];
  },
  rmsprop: (x) => rmsprop(x, false, false),
  rmspropMomentum: (x) => rmsprop(x, true, false),
  rmspropCentered: (x) => rmsprop(x, false, true),
  rmspropCenteredMomentum: (x) => rmsprop(x, true, true),
  adagrad: (x) => {
    const { o } = x;
    const [d, s] = [x.local(), x.local()];
    return [
      set(d, decayed(x)),
      set(s, o.add(x.load(0), o.mul(get(d), get(d)))),
      x.store(0, get(s)),
      x.store(
        "p",
        o.sub(
          x.load("p"),
          o.mul(x.h("stepSize"), o.div(get(d), o.add(o.sqrt(get(s)), x.h("eps")))),
        ),
      ),
    ];
  },
};

/** RMSprop; its buffers are square_avg, then momentum_buffer and grad_avg when it keeps them. */
function rmsprop(x: At, momentum: boolean, centered: boolean): Expr[] {
  const { o } = x;
  const [d, s, denominator] = [x.local(), x.local(), x.local()];
  const [buffer, average]: Pointer[] = momentum ? [1, 2] : [1, 1];
  const body = [
    set(d, decayed(x)),
    set(
      s,
      o.add(o.mul(x.h("alpha"), x.load(0)), o.mul(o.mul(x.h("oneMinusAlpha"), get(d)), get(d))),
    ),
    x.store(0, get(s)),
  ];
  if (centered) {
    const a = x.local();
    body.push(
      set(a, o.add(o.mul(x.h("alpha"), x.load(average)), o.mul(x.h("oneMinusAlpha"), get(d)))),
      x.store(average, get(a)),
      set(denominator, o.add(o.sqrt(o.sub(get(s), o.mul(get(a), get(a)))), x.h("eps"))),
    );
  } else {
    body.push(set(denominator, o.add(o.sqrt(get(s)), x.h("eps"))));
  }
  const step = o.div(get(d), get(denominator));
  if (!momentum) return [...body, x.store("p", o.sub(x.load("p"), o.mul(x.h("lr"), step)))];
  const b = x.local();
  return [
    ...body,
    set(b, o.add(o.mul(x.h("momentum"), x.load(buffer)), step)),
    x.store(buffer, get(b)),
    x.store("p", o.sub(x.load("p"), o.mul(x.h("lr"), get(b)))),
  ];
}

/**
 * update(N, count, thread, threads): the optimizer's step over this thread's share of the flat
 * parameter buffer, by the rule and with the hyperparameters the runtime writes in the slots;
 * the state buffers lie where the slot `state` says, each `count` floats.
 */
export function updateFunc(params: number, grads: number, count: number): Func {
  const fb = new FuncBuilder("update", [...ENTRY]);
  const { lo, n, prologue } = share(fb, count);
  const [p, g, s0, s1, s2, state] = fb.locals("i32", 6);
  const pointers = { p, g, 0: s0, 1: s1, 2: s2 };
  const hyper = Object.fromEntries(
    HYPER.map((name) => [name, { f32: fb.local("f32"), v128: fb.local("v128") }]),
  ) as Record<Hyper, { f32: number; v128: number }>;
  const nesterov = { f32: fb.local("i32"), v128: fb.local("v128") };
  const byteOf = (k: number): Expr => mul(add(i32(k * count), get(lo)), i32(F32));
  prologue.push(
    set(p, at(i32(params), get(lo), F32)),
    set(g, at(i32(grads), get(lo), F32)),
    set(state, loadI(slot("state"))),
    ...[s0, s1, s2].map((s, k) => set(s, add(get(state), byteOf(k)))),
    ...HYPER.flatMap((name) => [
      set(hyper[name].f32, loadF(slot(name))),
      set(hyper[name].v128, splat(get(hyper[name].f32))),
    ]),
    set(nesterov.f32, loadI(slot("nesterov"))),
    set(nesterov.v128, { op: "i32x4.splat", a: get(nesterov.f32) }),
  );
  const body = (rule: UpdateRule, o: Lanes, off: number): Expr[] =>
    rules[rule]({
      o,
      load: (ptr) => o.load(get(pointers[ptr]), off),
      store: (ptr, value) => o.store(get(pointers[ptr]), value, off),
      h: (name) => get(hyper[name][o.type]),
      nesterov: get(nesterov[o.type]),
      local: () => fb.local(o.type),
    });
  const runs = [p, g, s0, s1, s2];
  const loop = (rule: UpdateRule): Expr[] =>
    overRun(
      fb,
      get(n),
      runs,
      (off) => body(rule, VECTOR, off),
      (off) => body(rule, SCALAR, off),
    );
  const which = loadI(slot("rule"));
  const dispatch = UPDATE_RULES.reduceRight<Expr[]>(
    (otherwise, rule, index) => [
      {
        op: "if",
        cond: { op: "i32.eq", a: which, b: i32(index) },
        then: loop(rule),
        ...(otherwise.length > 0 ? { else: otherwise } : {}),
      },
    ],
    [],
  );
  return fb.build([...prologue, ...dispatch, { op: "call", func: "barrier", args: [get(3)] }]);
}

/**
 * clip(N, count, thread, threads): torch.nn.utils.clip_grad_norm_ over the gradients when the
 * slot `clipNorm` is above 0. Thread 0 sums the squares of all of them, in the same order
 * whatever the thread count, and writes max_norm / (norm + 1e-6); after a barrier, every
 * thread scales its share by it when it is below 1.
 */
export function clipFunc(grads: number, count: number): Func {
  const fb = new FuncBuilder("clip", [...ENTRY]);
  const { lo, n, prologue } = share(fb, count);
  const [ptr] = fb.locals("i32", 1);
  const [squares, x, coefficients] = fb.locals("v128", 3);
  const [tail, coefficient] = fb.locals("f32", 2);
  const maxNorm = loadF(slot("clipNorm"));
  const sumOfSquares: Expr[] = [
    set(squares, ZERO_V),
    set(tail, f32(0)),
    set(ptr, i32(grads)),
    ...overRun(
      fb,
      count,
      [ptr],
      (off) => [
        set(x, loadV(get(ptr), off)),
        set(squares, VECTOR.add(get(squares), VECTOR.mul(get(x), get(x)))),
      ],
      (off) => [
        set(tail, SCALAR.add(get(tail), SCALAR.mul(loadF(get(ptr), off), loadF(get(ptr), off)))),
      ],
    ),
    storeF(
      slot("clipCoefficient"),
      SCALAR.div(
        maxNorm,
        SCALAR.add(SCALAR.sqrt(SCALAR.add(hsum(get(squares)), get(tail))), f32(CLIP_EPSILON)),
      ),
    ),
  ];
  const scale = (o: Lanes, c: Expr) => (off: number) => [
    o.store(get(ptr), o.mul(o.load(get(ptr), off), c), off),
  ];
  return fb.build([
    ...prologue,
    {
      op: "if",
      cond: { op: "f32.gt", a: maxNorm, b: f32(0) },
      then: [
        { op: "if", cond: { op: "i32.eqz", a: get(2) }, then: sumOfSquares },
        { op: "call", func: "barrier", args: [get(3)] },
        set(coefficient, loadF(slot("clipCoefficient"))),
        {
          op: "if",
          cond: { op: "f32.lt", a: get(coefficient), b: f32(1) },
          then: [
            set(ptr, at(i32(grads), get(lo), F32)),
            set(coefficients, splat(get(coefficient))),
            ...overRun(
              fb,
              get(n),
              [ptr],
              scale(VECTOR, get(coefficients)),
              scale(SCALAR, get(coefficient)),
            ),
          ],
        },
      ],
    },
  ]);
}
