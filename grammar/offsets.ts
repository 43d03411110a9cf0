// Sorted source offsets, and things sorted by offset, searched in logarithmic time: files can
// have thousands of syntax errors or comments, and a scan for each would be quadratic.

/** The index of the first item whose offset is `>= from` in `sorted` (its length when none). */
export function firstFrom<T>(sorted: readonly T[], offsetOf: (item: T) => number, from: number) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsetOf(sorted[mid]!) < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const itself = (o: number) => o;

/** A set of offsets (where syntax errors are), asked about ranges. */
export class OffsetSet {
  private readonly sorted: number[];

  constructor(offsets: Iterable<number>) {
    this.sorted = [...offsets].filter((o) => !Number.isNaN(o)).sort((a, b) => a - b);
  }

  /** Whether some offset `o` has `from <= o < to`. */
  someIn(from: number, to: number): boolean {
    const i = firstFrom(this.sorted, itself, from);
    return i < this.sorted.length && this.sorted[i]! < to;
  }

  /** The greatest offset below `to`, if any. */
  before(to: number): number | undefined {
    const i = firstFrom(this.sorted, itself, to);
    return i > 0 ? this.sorted[i - 1] : undefined;
  }
}
