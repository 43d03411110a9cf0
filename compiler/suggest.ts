// "Did you mean": the closest known name by edit distance, case-insensitive matches first.

/** Edit distance counting a swap of adjacent letters as one edit (`Adma` → `Adam`). */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, before[j - 2]! + 1);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `name`, if close enough to be a plausible typo.
 * `aliases` maps other frameworks' names (PyTorch's `Conv2d`) to ours.
 */
export function suggest(
  name: string,
  candidates: Iterable<string>,
  aliases: ReadonlyMap<string, string> = new Map(),
): string | undefined {
  const lower = name.toLowerCase();
  const alias = aliases.get(lower);
  if (alias) return alias;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const d = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}
