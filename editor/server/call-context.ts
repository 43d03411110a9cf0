// Where the cursor is inside a call's argument list, read from the text (it is often unfinished).

export interface CallContext {
  callee: string;
  /** Offset of the callee's first character. */
  calleePos: number;
  /** 0-based index of the argument being written. */
  argIndex: number;
  /** The text of that argument up to the cursor. */
  argText: string;
  /** Argument names already written in this call. */
  named: string[];
}

/**
 * The innermost call whose `(` is open at `offset`. Scans back no further than `start`, and not
 * past a line break that ends a statement (a line ending in `(` or `,` continues).
 */
export function callContext(text: string, offset: number, start: number): CallContext | undefined {
  let depth = 0;
  let commas: number[] = [];
  for (let i = offset - 1; i >= start; i--) {
    const ch = text[i]!;
    if (ch === ")" || ch === "]") depth++;
    else if (ch === "[" && depth > 0) depth--;
    else if (ch === "(" && depth > 0) depth--;
    else if (ch === "[" && depth === 0)
      return undefined; // inside a tuple, not an argument list
    else if (ch === "," && depth === 0) commas.push(i);
    else if ((ch === "\n" || ch === "\r") && depth === 0 && !continues(text, i)) return undefined;
    else if (ch === "(" && depth === 0) {
      const callee = /[A-Za-z_][A-Za-z0-9_]*$/.exec(text.slice(Math.max(start, i - 100), i));
      if (!callee) return undefined;
      commas = commas.reverse();
      const argStart = commas.length > 0 ? commas[commas.length - 1]! + 1 : i + 1;
      const inside = text.slice(i + 1, offset);
      return {
        callee: callee[0],
        calleePos: i - callee[0].length,
        argIndex: commas.length,
        argText: text.slice(argStart, offset),
        named: [...inside.matchAll(/(?:^|,)\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/g)].map((m) => m[1]!),
      };
    }
  }
  return undefined;
}

/** Whether the line ending at the break at `i` continues on the next one. */
function continues(text: string, i: number): boolean {
  let j = i - 1;
  while (j >= 0 && (text[j] === " " || text[j] === "\t" || text[j] === "\r")) j--;
  return j >= 0 && "(,[".includes(text[j]!);
}
