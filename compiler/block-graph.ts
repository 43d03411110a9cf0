// Which blocks each block uses, read from the source alone: how many layers a block expands
// to, and whether one reaches another, known without expanding anything.
import type { BlockDecl, Expr } from "../grammar/ast.js";
import { layers } from "./catalog/index.js";
import { asRepeat, literalCount } from "./repeat.js";

/**
 * Counts saturate here: a chain of blocks that each use the previous twice doubles at every
 * level, and past the limit only "more than the limit" matters.
 */
const SATURATED = Number.MAX_SAFE_INTEGER;

export class BlockGraph {
  private readonly uses = new Map<string, Uses>();
  private readonly sizes = new Map<string, number>();

  constructor(private readonly blocks: ReadonlyMap<string, BlockDecl>) {}

  /**
   * The number of layers a use of `block` expands to, blocks inside it expanded too; the
   * language has no conditionals, so the arguments change it only through the count of a
   * repeat, which counts once here unless written as a number (see `literalCount`). A name that
   * is both a block and a value counts as the block. A cycle (reported as recursion) counts
   * its way round once.
   */
  layers(block: string): number {
    // Depth first, with a stack of its own: blocks may nest thousands deep.
    const stack = [block];
    const entered = new Set<string>();
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (this.sizes.has(top)) {
        stack.pop();
        continue;
      }
      const own = this.usesOf(top);
      if (!entered.has(top)) {
        entered.add(top);
        const before = stack.length;
        for (const b of new Set(own.blocks))
          if (!this.sizes.has(b) && !entered.has(b)) stack.push(b);
        if (stack.length > before) continue;
      }
      this.sizes.set(
        top,
        total(own, (b) => this.sizes.get(b) ?? 0),
      );
      stack.pop();
    }
    return this.sizes.get(block)!;
  }

  /**
   * The blocks from `from` to `to` along uses (both included), if `from` reaches `to`. Only
   * blocks in one cycle reach each other both ways, which the components tell at once; the
   * search for the path itself is left to the rare case of a cycle.
   */
  path(from: string, to: string): string[] | undefined {
    const components = this.components();
    if (from !== to && components.get(from) !== components.get(to)) return undefined;
    const cameFrom = new Map<string, string | undefined>([[from, undefined]]);
    const queue = [from];
    for (let i = 0; i < queue.length; i++) {
      const name = queue[i]!;
      if (name === to) {
        const path: string[] = [];
        for (let at: string | undefined = name; at !== undefined; at = cameFrom.get(at))
          path.push(at);
        return path.reverse();
      }
      for (const next of this.usesOf(name).blocks) {
        if (cameFrom.has(next)) continue;
        cameFrom.set(next, name);
        queue.push(next);
      }
    }
    return undefined;
  }

  private cycles: Map<string, number> | undefined;

  /**
   * Each block's strongly connected component (Tarjan's algorithm, with stacks of its own):
   * two blocks in one component use each other, through others or directly.
   */
  private components(): Map<string, number> {
    if (this.cycles) return this.cycles;
    const component = new Map<string, number>();
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const open: string[] = [];
    const onOpen = new Set<string>();
    for (const root of this.blocks.keys()) {
      if (index.has(root)) continue;
      const work: { name: string; next: number }[] = [{ name: root, next: 0 }];
      while (work.length > 0) {
        const frame = work[work.length - 1]!;
        const { name } = frame;
        if (frame.next === 0 && !index.has(name)) {
          index.set(name, index.size);
          low.set(name, index.get(name)!);
          open.push(name);
          onOpen.add(name);
        }
        const uses = this.usesOf(name).blocks;
        if (frame.next < uses.length) {
          const next = uses[frame.next++]!;
          if (!index.has(next)) work.push({ name: next, next: 0 });
          else if (onOpen.has(next)) low.set(name, Math.min(low.get(name)!, index.get(next)!));
          continue;
        }
        work.pop();
        const parent = work[work.length - 1];
        if (parent) low.set(parent.name, Math.min(low.get(parent.name)!, low.get(name)!));
        if (low.get(name) === index.get(name)) {
          for (let member = open.pop(); member !== undefined; member = open.pop()) {
            onOpen.delete(member);
            component.set(member, index.get(name)!);
            if (member === name) break;
          }
        }
      }
    }
    this.cycles = component;
    return component;
  }

  /** The layers one expression of a body expands to, its blocks expanded (a repeat's body). */
  exprLayers(e: Expr): number {
    const own: Uses = { layers: 0, blocks: [], times: [] };
    visitUses(e, 1, this.blocks, own);
    return total(own, (b) => this.layers(b));
  }

  private usesOf(name: string): Uses {
    let found = this.uses.get(name);
    if (!found) {
      found = { layers: 0, blocks: [], times: [] };
      for (const stmt of this.blocks.get(name)!.body)
        if (stmt.kind === "Bind" || stmt.kind === "Chain")
          visitUses(stmt.value, 1, this.blocks, found);
      this.uses.set(name, found);
    }
    return found;
  }
}

/**
 * The catalog layers a body writes, and the blocks it uses (once per use, with the number of
 * times a repeat applies it in `times`).
 */
interface Uses {
  layers: number;
  blocks: string[];
  times: number[];
}

/** Layers of `own` with each block counted as `size` says, saturating. */
function total(own: Uses, size: (block: string) => number): number {
  let sum = own.layers;
  own.blocks.forEach((b, i) => (sum = Math.min(SATURATED, sum + own.times[i]! * size(b))));
  return sum;
}

/** Adds what `e` writes to `out`, `times` over (the product of the repeats around it). */
function visitUses(
  e: Expr,
  times: number,
  blocks: ReadonlyMap<string, BlockDecl>,
  out: Uses,
): void {
  switch (e.kind) {
    case "Chain":
      for (const step of e.steps) visitUses(step, times, blocks, out);
      return;
    case "Labeled":
      visitUses(e.expr, times, blocks, out);
      return;
    case "Binary": {
      const repeat = asRepeat(e);
      if (repeat)
        visitUses(
          repeat.body,
          Math.min(SATURATED, times * (literalCount(repeat) ?? 1)),
          blocks,
          out,
        );
      return;
    }
    case "Name":
    case "Call": {
      const name = e.kind === "Name" ? e.name : e.callee.name;
      const layer = layers.get(name);
      if (layer) out.layers = Math.min(SATURATED, out.layers + times);
      else if (blocks.has(name)) {
        out.blocks.push(name);
        out.times.push(times);
      }
      if (e.kind === "Call" && layer?.inputs === "many")
        for (const a of e.args) visitUses(a.value, times, blocks, out);
      return;
    }
    default:
      return;
  }
}
