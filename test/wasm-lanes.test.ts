// Vectors built from lanes of others (compiler/backends/wasm/lanes.ts): every lane asked for lands,
// zeros are zero, and the shuffles x64 does in one instruction are counted as one.
import { expect, test } from "vitest";
import { FuncBuilder, i32, loadV, storeV } from "../compiler/backends/wasm/builder.js";
import { encodeModule } from "../compiler/backends/wasm/encoder.js";
import { pick, pickCost, type Lane } from "../compiler/backends/wasm/lanes.js";
import { pseudoRandom } from "./helpers/gradcheck.js";

test("a picked vector holds the lanes asked for, from up to four sources and zero", () => {
  const random = pseudoRandom(11);
  const int = (n: number) => Math.floor(((random() + 1) / 2) * n);
  const cases = Array.from({ length: 300 }, () => {
    const sources = 1 + int(4);
    return [0, 1, 2, 3].map((): Lane => {
      const kind = int(6);
      return kind === 0 ? undefined : kind === 1 ? "zero" : { from: int(sources), lane: int(4) };
    });
  });
  // Sources at bytes 0–63, case c's result at 64 + 16c.
  const sources = [0, 1, 2, 3].map((k) => loadV(i32(16 * k)));
  const fb = new FuncBuilder("picks", []);
  const bytes = encodeModule({
    minPages: 1,
    functions: [fb.build(cases.map((want, c) => storeV(i32(64 + 16 * c), pick(sources, want))))],
  });
  const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
  const f = new Float32Array(mem.buffer);
  f.set(Array.from({ length: 16 }, (_, i) => i + 1));
  f.fill(NaN, 16);
  (instance.exports["picks"] as () => void)();
  cases.forEach((want, c) =>
    want.forEach((l, m) => {
      const got = f[16 + 4 * c + m];
      if (l === "zero") expect(Object.is(got, 0), `case ${c} lane ${m}`).toBe(true);
      else if (l) expect(got, `case ${c} lane ${m}`).toBe(4 * l.from + l.lane + 1);
    }),
  );
});

test("shuffles V8 lowers to one x64 instruction cost one; others three", () => {
  const lanes = (...picks: [number, number][]): Lane[] =>
    picks.map(([from, lane]) => ({ from, lane }));
  expect(pickCost(lanes([0, 0], [0, 1], [0, 2], [0, 3]))).toBe(0);
  expect(pickCost(lanes([0, 0], [0, 2], [1, 0], [1, 2]))).toBe(1); // shufps
  expect(pickCost(lanes([0, 0], [1, 0], [0, 1], [1, 1]))).toBe(1); // unpcklps
  expect(pickCost(lanes([0, 3], [1, 0], [1, 1], [1, 2]))).toBe(1); // palignr
  expect(pickCost(lanes([0, 2], [1, 0], [1, 2], [0, 3]))).toBe(3);
  // Zero and free lanes are chosen to fit a pattern: [0, a0, a1, a2] is a palignr with zero.
  expect(pickCost(["zero", { from: 0, lane: 0 }, { from: 0, lane: 1 }, undefined])).toBe(1);
});
