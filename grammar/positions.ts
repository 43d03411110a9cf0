// Offsets ↔ line and column (UTF-16 units, as editors count), for the CLI and the language server.
// Lines end at "\r\n", "\n" or a lone "\r", as the Language Server Protocol has it (and the lexer).

export interface LineColumn {
  line: number;
  column: number;
}

/** 0-based line and character, as the Language Server Protocol counts. */
export interface Position {
  line: number;
  character: number;
}

export class LineMap {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      // A "\r" followed by "\n" is one break, counted at the "\n".
      if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) this.starts.push(i + 1);
    }
  }

  get lineCount(): number {
    return this.starts.length;
  }

  /** 1-based line and column of a character offset. */
  at(offset: number): LineColumn {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo]! + 1 };
  }

  /** 0-based position of a character offset. */
  position(offset: number): Position {
    const { line, column } = this.at(offset);
    return { line: line - 1, character: column - 1 };
  }

  /** The offset of a 0-based position, clamped to its line (editors may send a column past it). */
  offset(p: Position): number {
    if (p.line < 0) return 0;
    const start = this.starts[p.line];
    if (start === undefined) return this.text.length;
    const lineEnd = this.lineEnd(p.line);
    return Math.min(start + Math.max(0, p.character), lineEnd);
  }

  /** The offset where 0-based line `line` ends, before its line break. */
  lineEnd(line: number): number {
    const next = this.starts[line + 1];
    if (next === undefined) return this.text.length;
    const crlf = this.text.charCodeAt(next - 1) === 10 && this.text.charCodeAt(next - 2) === 13;
    return crlf ? next - 2 : next - 1;
  }

  /** The text of 1-based line `line`, without its line break. */
  lineText(line: number): string {
    const start = this.starts[line - 1] ?? this.text.length;
    return this.text.slice(
      start,
      this.starts[line] === undefined ? undefined : this.lineEnd(line - 1),
    );
  }
}
