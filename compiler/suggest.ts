// "Did you mean": the closest known name by edit distance, case-insensitive matches first.

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
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
