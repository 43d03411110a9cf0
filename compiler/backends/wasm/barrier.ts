// The thread barrier: every step of a threaded model ends in one.
import { add, FuncBuilder, get, i32, set, sub } from "./builder.js";
import type { Expr, Func } from "./encoder.js";
import { CONTROL } from "../../../runtime/wasm-layout.js";

/**
 * barrier(threads): every thread waits until all have arrived. The last to arrive resets the
 * count and bumps the generation; the others spin on the generation a while, then sleep on it.
 */
export function barrierFunc(): Func {
  const fb = new FuncBuilder("barrier", ["i32"]);
  const [generation, spins] = [fb.local("i32"), fb.local("i32")];
  const atomicLoad = (addr: number): Expr => ({
    op: "i32.atomic.load",
    addr: i32(addr),
    offset: 0,
  });
  const arrive: Expr = {
    op: "i32.atomic.rmw.add",
    addr: i32(CONTROL.barrierCount),
    offset: 0,
    value: i32(1),
  };
  const spin = fb.label();
  const done = fb.label();
  const wait: Expr[] = [
    set(spins, i32(0)),
    {
      op: "block",
      label: done,
      body: [
        {
          op: "loop",
          label: spin,
          body: [
            {
              op: "br_if",
              label: done,
              cond: { op: "i32.ne", a: atomicLoad(CONTROL.barrierGeneration), b: get(generation) },
            },
            set(spins, add(get(spins), i32(1))),
            {
              op: "if",
              cond: { op: "i32.gt_s", a: get(spins), b: i32(20000) },
              then: [
                {
                  op: "drop",
                  a: {
                    op: "memory.atomic.wait32",
                    addr: i32(CONTROL.barrierGeneration),
                    offset: 0,
                    expected: get(generation),
                    timeout: { op: "i64.const", value: 1000000 },
                  },
                },
              ],
            },
            { op: "br", label: spin },
          ],
        },
      ],
    },
  ];
  const release: Expr[] = [
    { op: "i32.atomic.store", addr: i32(CONTROL.barrierCount), offset: 0, value: i32(0) },
    {
      op: "drop",
      a: {
        op: "i32.atomic.rmw.add",
        addr: i32(CONTROL.barrierGeneration),
        offset: 0,
        value: i32(1),
      },
    },
    {
      op: "drop",
      a: {
        op: "memory.atomic.notify",
        addr: i32(CONTROL.barrierGeneration),
        offset: 0,
        value: i32(-1),
      },
    },
  ];
  const out = fb.label();
  return fb.build(
    [
      {
        op: "block",
        label: out,
        body: [
          { op: "br_if", label: out, cond: { op: "i32.le_s", a: get(0), b: i32(1) } },
          set(generation, atomicLoad(CONTROL.barrierGeneration)),
          {
            op: "if",
            cond: { op: "i32.eq", a: arrive, b: sub(get(0), i32(1)) },
            then: release,
            else: wait,
          },
        ],
      },
    ],
    false,
  );
}
