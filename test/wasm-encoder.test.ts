// Tests of the WASM binary encoder: LEB128, sections, hand-encoded bytes, newer instructions run.
// The newer ones (data, imports and calls, if/else, shuffles, pmax, atomics) validate and execute.
import { describe, expect, test } from "vitest";
import {
  encodeModule,
  LIMITS_SHARED,
  section,
  sharedFlagOffset,
  sleb128,
  toWat,
  uleb128,
  validate,
  type Expr,
  type ModuleSpec,
} from "../compiler/backends/wasm/encoder.js";
import { FuncBuilder, get, i32, loadV, storeV, ZERO_V } from "../compiler/backends/wasm/builder.js";

describe("encoder", () => {
  test("LEB128 matches hand-encoded bytes", () => {
    expect(uleb128(0)).toEqual([0x00]);
    expect(uleb128(127)).toEqual([0x7f]);
    expect(uleb128(128)).toEqual([0x80, 0x01]);
    expect(uleb128(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb128(0)).toEqual([0x00]);
    expect(sleb128(63)).toEqual([0x3f]);
    expect(sleb128(64)).toEqual([0xc0, 0x00]);
    expect(sleb128(-1)).toEqual([0x7f]);
    expect(sleb128(-64)).toEqual([0x40]);
    expect(sleb128(-65)).toEqual([0xbf, 0x7f]);
    expect(sleb128(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  test("a section is its id, its byte length, then its content", () => {
    expect(section(7, [1, 2, 3])).toEqual([7, 3, 1, 2, 3]);
    expect(section(10, Array<number>(200).fill(0)).slice(0, 3)).toEqual([10, 0xc8, 0x01]);
  });

  test("a one-function module encodes to the hand-checked bytes", () => {
    const spec = {
      minPages: 1,
      functions: [
        {
          name: "f",
          params: [],
          locals: ["i32" as const],
          body: [
            { op: "local.set" as const, local: 0, value: { op: "i32.const" as const, value: -2 } },
          ],
        },
      ],
    };
    const bytes = encodeModule(spec);
    // prettier-ignore
    expect([...bytes]).toEqual([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
      0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x01, 0x01, 0x80, 0x80, 0x04, // env.mem, min 1, max 65536 pages
      0x03, 0x02, 0x01, 0x00, // function 0 has type 0
      0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // export "f" = func 0
      0x0a, 0x0a, 0x01, 0x08, 0x01, 0x01, 0x7f, 0x41, 0x7e, 0x21, 0x00, 0x0b, // (local i32) i32.const -2 local.set 0
    ]);
    expect(validate(bytes)).toBe(true);
    expect(toWat(spec)).toContain("(local.set 0\n      (i32.const -2))");
  });
});

/** Validates, instantiates on a fresh one-page memory, and returns the exports and the memory. */
function run(spec: ModuleSpec, imports: Record<string, Function> = {}) {
  const bytes = encodeModule(spec);
  expect(validate(bytes)).toBe(true);
  const mem = new WebAssembly.Memory({ initial: spec.minPages, maximum: spec.minPages });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: { mem, ...imports },
  });
  const exports = instance.exports as Record<string, (...args: number[]) => void>;
  return { exports, i32: new Int32Array(mem.buffer), f32: new Float32Array(mem.buffer) };
}

const storeI = (addr: number, value: Expr): Expr => ({
  op: "i32.store",
  addr: i32(addr),
  offset: 0,
  value,
});

describe("newer encoder features", () => {
  test("a data segment initialises memory at its offset", () => {
    const spec: ModuleSpec = {
      minPages: 1,
      functions: [new FuncBuilder("f", []).build([])],
      data: [
        { offset: 8, bytes: new Uint8Array([1, 2, 3, 4]) },
        { offset: 1000, bytes: new Uint8Array(new Int32Array([-7]).buffer) },
      ],
    };
    const bytes = encodeModule(spec);
    // The data section (id 11) comes last: 2 segments, each active on memory 0 at (i32.const n).
    // prettier-ignore
    expect([...bytes.slice(-22)]).toEqual([
      0x0b, 0x14, 0x02,
      0x00, 0x41, 0x08, 0x0b, 0x04, 1, 2, 3, 4,
      0x00, 0x41, 0xe8, 0x07, 0x0b, 0x04, 0xf9, 0xff, 0xff, 0xff,
    ]);
    const { i32: words } = run(spec);
    expect([...new Uint8Array(words.buffer, 6, 8)]).toEqual([0, 0, 1, 2, 3, 4, 0, 0]);
    expect(words[250]).toBe(-7);
    expect(toWat(spec)).toContain('(data (i32.const 1000) "…4 bytes")');
  });

  test("an imported function is called, and functions call each other with arguments", () => {
    // twice(x) calls the import, then store(x + x); only twice is exported.
    const store = new FuncBuilder("store", ["i32"]).build(
      [storeI(16, { op: "i32.add", a: get(0), b: get(0) })],
      false,
    );
    const twice = new FuncBuilder("twice", ["i32"]).build([
      { op: "call", func: "tick", args: [] },
      { op: "call", func: "store", args: [get(0)] },
    ]);
    let ticks = 0;
    const spec: ModuleSpec = { minPages: 1, imports: ["tick"], functions: [store, twice] };
    const { exports, i32: words } = run(spec, { tick: () => ticks++ });
    expect(Object.keys(exports)).toEqual(["twice"]);
    exports["twice"]!(21);
    exports["twice"]!(-5);
    expect(ticks).toBe(2);
    expect(words[4]).toBe(-10);
    expect(toWat(spec)).toContain('(import "env" "tick" (func $tick))');
    expect(() => encodeModule({ minPages: 1, functions: [store, store] })).toThrow(/defined twice/);
  });

  test("if/else takes the branch its condition picks", () => {
    const spec: ModuleSpec = {
      minPages: 1,
      functions: [
        new FuncBuilder("pick", ["i32"]).build([
          {
            op: "if",
            cond: { op: "i32.lt_s", a: get(0), b: i32(0) },
            then: [storeI(0, i32(-1))],
            else: [storeI(0, i32(1))],
          },
          // An if without else does nothing when false.
          { op: "if", cond: { op: "i32.eqz", a: get(0) }, then: [storeI(0, i32(0))] },
        ]),
      ],
    };
    const { exports, i32: words } = run(spec);
    const results = [-3, 0, 9].map((x) => {
      exports["pick"]!(x);
      return words[0];
    });
    expect(results).toEqual([-1, 0, 1]);
    expect(toWat(spec)).toMatch(/\(if\n[^]*\(then\n[^]*\(else\n/);
  });

  test("i8x16.shuffle picks bytes of both operands", () => {
    // f32 lanes a3 b0 a1 b2: byte indices 12–15, 16–19, 4–7, 24–27.
    const lanes = [12, 13, 14, 15, 16, 17, 18, 19, 4, 5, 6, 7, 24, 25, 26, 27];
    const shuffle = (picks: number[]): ModuleSpec => ({
      minPages: 1,
      functions: [
        new FuncBuilder("shuffle", []).build([
          storeV(i32(32), {
            op: "i8x16.shuffle",
            a: loadV(i32(0)),
            b: loadV(i32(16)),
            lanes: picks,
          }),
        ]),
      ],
    });
    const spec = shuffle(lanes);
    const { exports, f32: floats } = run(spec);
    floats.set([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, -3.5]);
    exports["shuffle"]!();
    expect([...floats.subarray(8, 12)]).toEqual([3.5, -0.5, 1.5, -2.5]);
    expect(() => encodeModule(shuffle(lanes.slice(1)))).toThrow(/16 lane/);
  });

  test("f32x4.pmax takes the second operand only where it is greater; v128.any_true", () => {
    // What max pooling needs: a NaN tap is passed over, and of equal zeros the first stays.
    const spec: ModuleSpec = {
      minPages: 1,
      functions: [
        new FuncBuilder("pmax", []).build([
          storeV(i32(32), { op: "f32x4.pmax", a: loadV(i32(0)), b: loadV(i32(16)) }),
          storeI(48, { op: "v128.any_true", a: loadV(i32(0)) }),
          storeI(52, { op: "v128.any_true", a: ZERO_V }),
        ]),
      ],
    };
    const { exports, f32: floats, i32: words } = run(spec);
    floats.set([1, 1, -0, -Infinity, 2, NaN, 0, NaN]);
    exports["pmax"]!();
    expect([...floats.subarray(8, 12)]).toEqual([2, 1, -0, -Infinity]);
    expect([words[12], words[13]]).toEqual([1, 0]);
  });

  test("atomic ops validate and run, on a plain and on a shared memory", () => {
    const fb = new FuncBuilder("bump", ["i32"]);
    const old = fb.local("i32");
    const spec: ModuleSpec = {
      minPages: 1,
      functions: [
        fb.build([
          {
            op: "local.set",
            local: old,
            value: { op: "i32.atomic.rmw.add", addr: i32(64), offset: 0, value: get(0) },
          },
          storeI(68, get(old)),
          {
            op: "i32.atomic.store",
            addr: i32(72),
            offset: 0,
            value: { op: "i32.atomic.load", addr: i32(64), offset: 0 },
          },
          {
            op: "drop",
            a: { op: "memory.atomic.notify", addr: i32(64), offset: 0, value: i32(1) },
          },
        ]),
        // Only called on the shared memory: wait32 traps on an unshared one.
        new FuncBuilder("wait", []).build([
          storeI(76, {
            op: "memory.atomic.wait32",
            addr: i32(64),
            offset: 0,
            expected: i32(0),
            timeout: { op: "i64.const", value: 0 },
          }),
        ]),
      ],
    };
    const { exports, i32: words } = run(spec);
    exports["bump"]!(5);
    exports["bump"]!(7);
    expect([words[16], words[17], words[18]]).toEqual([12, 5, 12]);

    const bytes = encodeModule(spec);
    bytes[sharedFlagOffset(bytes)] = LIMITS_SHARED;
    expect(validate(bytes)).toBe(true);
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
    const exports2 = instance.exports as Record<string, (...args: number[]) => void>;
    exports2["bump"]!(3);
    // The word is 3, not the expected 0: the wait returns "not-equal" (1) instead of sleeping.
    exports2["wait"]!();
    const shared = new Int32Array(mem.buffer);
    expect([shared[16], shared[19]]).toEqual([3, 1]);
    expect(mem.buffer).toBeInstanceOf(SharedArrayBuffer);
  });
});
