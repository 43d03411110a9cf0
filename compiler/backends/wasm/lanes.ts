// f32x4 values built from lanes of others, with the shuffles x64 does in one instruction where
// the lanes allow: V8 lowers a shuffle that matches pshufd, shufps, unpck, palignr or pblendw to
// that instruction, any other to two byte shuffles and an or.
import { shuffle, ZERO_V } from "./builder.js";
import type { Expr } from "./encoder.js";

/** A lane to build: lane `lane` of source `from`, zero, or anything (left unused). */
export type Lane = { from: number; lane: number } | "zero" | undefined;

/** A lane of a shuffle of a (0–3) and b (4–7): that lane, any of these, or any at all. */
type Slot = number | readonly number[] | undefined;

const allows = (slot: Slot, x: number): boolean =>
  slot === undefined || (typeof slot === "number" ? slot === x : slot.includes(x));

/** Shuffles x64 does in one instruction besides pshufd and shufps: palignr, unpck, pblendw. */
const ONE_INSTRUCTION: number[][] = [
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((c) => [0, 1, 2, 3].map((m) => (c + m) % 8)),
  [0, 4, 1, 5],
  [2, 6, 3, 7],
  [4, 0, 5, 1],
  [6, 2, 7, 3],
  ...Array.from({ length: 16 }, (_, mask) => [0, 1, 2, 3].map((m) => ((mask >> m) & 1) * 4 + m)),
];

/**
 * Lanes meeting the slots, as one x64 instruction where they can be (V8 matches these patterns;
 * others take two byte shuffles and an or): lanes of one operand (pshufd), two of one operand
 * then two of the other (shufps), or one of ONE_INSTRUCTION.
 */
function choose(slots: Slot[]): number[] {
  const inside = (slot: Slot, base: number, m: number): number | undefined => {
    if (slot === undefined) return base + m;
    if (typeof slot === "number") return slot >= base && slot < base + 4 ? slot : undefined;
    return slot.find((x) => x >= base && x < base + 4);
  };
  for (const [lo, hi] of [
    [0, 0],
    [4, 4],
    [0, 4],
    [4, 0],
  ] as const) {
    const picks = slots.map((slot, m) => inside(slot, m < 2 ? lo : hi, m % 4));
    if (picks.every((x) => x !== undefined)) return picks;
  }
  const pattern = ONE_INSTRUCTION.find((lanes) => lanes.every((x, m) => allows(slots[m], x)));
  return (
    pattern ??
    slots.map((slot, m) => (slot === undefined ? m : typeof slot === "number" ? slot : slot[0]!))
  );
}

const ZERO = -1;
const sourceOf = (l: Lane) => (l === undefined ? undefined : l === "zero" ? ZERO : l.from);

/**
 * The shuffles that build the lanes `want` asks for, one per source past the first (the zero
 * vector counting as one): the first reads two sources as they lie, each later one keeps what is
 * in place and takes the next source's lanes.
 */
function shuffles(want: Lane[]): { sources: number[]; steps: number[][] } {
  const sources = [...new Set(want.map(sourceOf).filter((k): k is number => k !== undefined))];
  // Source k's lanes as operand a (base 0) or b (base 4).
  const slot = (l: Lane, base: number): Slot =>
    l === "zero" ? [0, 1, 2, 3].map((x) => base + x) : base + (l as { lane: number }).lane;
  const [first, second] = [sources[0], sources[1] ?? sources[0]];
  if (first === undefined) return { sources, steps: [] };
  const steps = [
    choose(
      want.map((l) => {
        const k = sourceOf(l);
        return k === first ? slot(l, 0) : k === second ? slot(l, 4) : undefined;
      }),
    ),
  ];
  sources.slice(2).forEach((k, n) => {
    const placed = new Set(sources.slice(0, n + 2));
    const slots = want.map((l, m): Slot => {
      const at = sourceOf(l);
      return at === k ? slot(l, 4) : at !== undefined && placed.has(at) ? m : undefined;
    });
    steps.push(choose(slots));
  });
  return { sources, steps };
}

/** Lanes that leave operand a or b as it is. */
const keeps = (picks: number[], base: number) => picks.every((x, m) => x === base + m);

/** Instructions of a shuffle on x64: none, one where V8 matches a pattern, else about three. */
function shuffleCost(picks: number[]): number {
  if (keeps(picks, 0) || keeps(picks, 4)) return 0;
  const half = (lanes: number[]) => lanes.every((x) => x < 4) || lanes.every((x) => x >= 4);
  if (half(picks) || (half(picks.slice(0, 2)) && half(picks.slice(2)))) return 1;
  return ONE_INSTRUCTION.some((p) => p.every((x, m) => x === picks[m])) ? 1 : 3;
}

/** What building `want` costs, in x64 instructions. */
export const pickCost = (want: Lane[]): number =>
  shuffles(want).steps.reduce((sum, picks) => sum + shuffleCost(picks), 0);

/** An f32x4 of the lanes `want` asks for. */
export function pick(sources: Expr[], want: Lane[]): Expr {
  const plan = shuffles(want);
  const first = plan.sources[0];
  if (first === undefined || (plan.sources.length === 1 && first === ZERO)) return ZERO_V;
  const source = (k: number) => (k === ZERO ? ZERO_V : sources[k]!);
  let value = source(first);
  plan.steps.forEach((picks, n) => {
    const b = source(plan.sources[n + 1] ?? first);
    value = keeps(picks, 0) ? value : keeps(picks, 4) ? b : shuffle(value, b, picks);
  });
  return value;
}
