// Mutations of sources for the fuzz tests: splices that stress the parser's recovery, and
// repetitions and extremes that stress its limits and the checker's budgets.
import fc from "fast-check";

/** Pieces of the language to splice in. */
export const fragments = [
  "->",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ":",
  "=",
  "+",
  "-",
  "*",
  "/",
  "\n",
  "\r",
  "\r\n",
  "#",
  " ",
  "\t",
  "model",
  "block",
  "input",
  "output",
  "criterion",
  "train",
  "in",
  "x",
  "0",
  "-1",
  "3.5",
  "1e9",
  "1e308",
  "9007199254740993",
  "4294967296",
  "SpatialConvolution(",
  "Linear(",
  "View(",
  "Concat(",
  "Add(",
  "ReLU",
  "kernel=",
  "pad=",
  "stride=",
  "Residual(",
  "DoubleConv(",
  "NLL",
  "MSE(",
  "true",
  "@",
  "\u00e9",
  "\ufeff",
  "optimizer = Adam(lr=",
  "schedule = MultiStepLR(milestones=[",
  "warmup = LinearLR(",
  "clip_grad_norm = ",
  "block B(c) {",
];

/** One change: `remove` characters at `at` replaced by `insert`, repeated `times` times. */
interface Mutation {
  at: number;
  remove: number;
  insert: string;
  times: number;
}

const insertion = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.array(fc.constantFrom(...fragments), { maxLength: 4 }).map((a) => a.join("")),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 3 }) },
  // A copy of a piece of the source itself, filled in by `mutate`.
  { weight: 2, arbitrary: fc.constant("") },
);

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  remove: fc.nat({ max: 12 }),
  insert: insertion,
  // Mostly once; sometimes a run long enough to pass a nesting limit or make a long body.
  times: fc.oneof(
    { weight: 8, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.integer({ min: 2, max: 400 }) },
  ),
});

export const mutations: fc.Arbitrary<Mutation[]> = fc.array(mutation, {
  minLength: 1,
  maxLength: 5,
});

/** `text` with `changes` applied, positions taken modulo its length as it goes. */
export function mutate(text: string, changes: readonly Mutation[]): string {
  let out = text;
  for (const m of changes) {
    const at = out.length === 0 ? 0 : m.at % (out.length + 1);
    const piece = m.insert || out.slice(at, at + 1 + (m.remove % 40));
    out = out.slice(0, at) + piece.repeat(m.times) + out.slice(at + m.remove);
  }
  return out;
}
