// The one formatter of `.net` files (netc fmt, the language server, Prettier): prints the AST, keeping comments.
import type * as A from "./ast.js";
import { parse } from "./index.js";
import { firstFrom } from "./offsets.js";
import { LineMap } from "./positions.js";

export interface FormatOptions {
  /** Spaces per indentation level (default 2). */
  indent?: number;
  /** Chains longer than this are broken before `->` (default 100). */
  printWidth?: number;
}

export type FormatResult = { text: string } | { error: string };

/**
 * Formats a whole file, or refuses to with a one-line reason when it has syntax errors: a file
 * the parser could not fully read would lose what it skipped.
 */
export function format(source: string, options: FormatOptions = {}): FormatResult {
  // Printed with "\n", then given the file's own line breaks (those of its first one).
  const eol = /\r\n?|\n/.exec(source)?.[0] ?? "\n";
  const text = source.includes("\r") ? source.replace(/\r\n?/g, "\n") : source;
  const { ast, problems } = parse(text);
  const first = problems[0];
  if (first) {
    const { line, column } = new LineMap(text).at(first.range.pos);
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    return { error: `${line}:${column}: ${first.message}${more}; the file was not formatted` };
  }
  const printer = new Printer(text, ast.comments, options.indent ?? 2, options.printWidth ?? 100);
  const out = printer.file(ast);
  // A printer bug must not cost the user a comment or change the model: refuse instead.
  const missed = ast.comments.length - printer.printedComments;
  if (missed !== 0) return { error: `internal error: ${missed} comment(s) could not be placed` };
  const again = parse(out);
  if (again.problems.length > 0 || astDump(again.ast) !== astDump(ast)) {
    return { error: "internal error: the formatted text would not mean the same" };
  }
  return { text: eol === "\n" ? out : out.replaceAll("\n", eol) };
}

/** The AST without source positions or comments: equal dumps mean the same program. */
export function astDump(ast: A.NetFile): string {
  return JSON.stringify(ast.decls, (key, value: unknown) =>
    key === "range" || key === "argsRange" ? undefined : value,
  );
}

type Entry = { kind: "node"; range: A.Span; print: (indent: string) => string[] } | A.Comment;

const startOf = (e: { range: A.Span }) => e.range.pos;

// Binding strength of each expression form; an operand weaker than its slot needs parentheses.
const CHAIN = 0;
const STEP = 0.5; // a labeled step: allowed in a chain, not in arithmetic
const SUM = 1;
const PRODUCT = 2;
const UNARY = 3;
const ATOM = 4;

/**
 * How far right of its statement's indentation a chain's first `->` may sit and still be
 * where the continuation lines align; further right, they are indented two levels instead.
 */
const ALIGN_LIMIT = 20;

const BLANK_LINE = /\n[^\S\n]*\n/;

class Printer {
  printedComments = 0;
  private readonly indentUnit: string;

  constructor(
    private readonly text: string,
    private readonly comments: readonly A.Comment[],
    indent: number,
    private readonly width: number,
  ) {
    this.indentUnit = " ".repeat(indent);
  }

  file(ast: A.NetFile): string {
    const decls = ast.decls.map((d) => this.node(d.range, (indent) => this.decl(d, indent)));
    const { lines } = this.sequence(decls, 0, this.text.length, "", true);
    return lines.length === 0 ? "" : lines.join("\n") + "\n";
  }

  private node(range: A.Span, print: (indent: string) => string[]): Entry {
    return { kind: "node", range, print };
  }

  /**
   * Declarations or statements between `from` and `to` with the comments around them: a comment
   * on the line where something ends stays at that line's end; one on its own line keeps its
   * place. One blank line is kept where the source had any, and always follows a declaration.
   * A comment right after `from` (the `{`) is returned as `head`, for the opening line.
   */
  private sequence(
    nodes: Entry[],
    from: number,
    to: number,
    indent: string,
    topLevel: boolean,
  ): { head?: A.Comment; lines: string[] } {
    // Nodes come in source order: the one a comment may be inside is the last that starts
    // before it.
    const free = this.commentsIn(from, to).filter((c) => {
      const node = nodes[firstFrom(nodes, startOf, c.range.pos + 1) - 1];
      return !node || c.range.pos >= node.range.end;
    });
    const entries = [...nodes, ...free].sort((a, b) => a.range.pos - b.range.pos);
    const lines: string[] = [];
    let head: A.Comment | undefined;
    let prevEnd = from;
    let prev: "start" | "node" | "comment" = "start";
    for (const entry of entries) {
      const gap = this.text.slice(prevEnd, entry.range.pos);
      prevEnd = entry.range.end;
      if (!("kind" in entry)) {
        this.printedComments++;
        const text = entry.text.trimEnd();
        if (!gap.includes("\n") && prev === "node") {
          lines[lines.length - 1] = this.trailing(lines[lines.length - 1]!, entry);
          continue;
        }
        if (!gap.includes("\n") && prev === "start" && !topLevel) {
          head = entry;
          continue;
        }
        if (prev !== "start" && (BLANK_LINE.test(gap) || (topLevel && prev === "node"))) {
          lines.push("");
        }
        lines.push(indent + text);
        prev = "comment";
        continue;
      }
      if (prev !== "start" && (BLANK_LINE.test(gap) || (topLevel && prev === "node"))) {
        lines.push("");
      }
      // One at a time: a body's lines can be more than a call takes arguments.
      for (const line of entry.print(indent)) lines.push(line);
      prev = "node";
    }
    return head ? { head, lines } : { lines };
  }

  /**
   * `line` with a comment at its end: at the comment's column in the source when the line
   * leaves room (so hand-aligned comments stay aligned), else one space after the code.
   */
  private trailing(line: string, comment: A.Comment): string {
    const column = comment.range.pos - (this.text.lastIndexOf("\n", comment.range.pos - 1) + 1);
    const pad = line.length < column ? " ".repeat(column - line.length) : " ";
    return line + pad + comment.text.trimEnd();
  }

  private inside(range: A.Span): A.Comment[] {
    return this.commentsIn(range.pos, range.end);
  }

  /** The comments starting in [from, to); they are in source order. */
  private commentsIn(from: number, to: number): A.Comment[] {
    return this.comments.slice(
      firstFrom(this.comments, startOf, from),
      firstFrom(this.comments, startOf, to),
    );
  }

  /**
   * Prints a statement, setting or header with `print`, unless comments sit inside it where
   * the printer has no place for them: then its source text is kept as it is, re-indented.
   */
  private printOrKeep(range: A.Span, indent: string, print: () => string[]): string[] {
    return this.inside(range).length === 0 ? print() : this.verbatim(range, indent);
  }

  /** The source text of `range` with its first line re-indented; it keeps the comments inside. */
  private verbatim(range: A.Span, indent: string): string[] {
    this.printedComments += this.inside(range).length;
    const [first, ...rest] = this.text.slice(range.pos, range.end).split("\n");
    return [indent + first!.trimEnd(), ...rest.map((l) => l.trimEnd())];
  }

  private decl(d: A.Decl, indent: string): string[] {
    switch (d.kind) {
      case "Model":
      case "Block": {
        const open = this.findBrace(d.name.range.end);
        const headerRange = { pos: d.range.pos, end: open };
        const header = this.printOrKeep(headerRange, indent, () => [indent + this.header(d, open)]);
        const stmts = d.body.map((s) => this.node(s.range, (inner) => this.stmt(s, inner)));
        return this.braced(header, stmts, open, d.range.end - 1, indent);
      }
      case "Criterion":
        return this.printOrKeep(d.range, indent, () => [
          `${indent}criterion ${this.expr(d.expr, SUM)}`,
        ]);
      case "Train": {
        const open = this.findBrace(d.range.pos + "train".length);
        const settings = d.settings.map((s) =>
          this.node(s.range, (inner) =>
            this.printOrKeep(s.range, inner, () => [
              `${inner}${s.key.name} = ${this.expr(s.value, SUM)}`,
            ]),
          ),
        );
        return this.braced([`${indent}train`], settings, open, d.range.end - 1, indent);
      }
    }
  }

  private header(d: A.ModelDecl | A.BlockDecl, open: number): string {
    if (d.kind === "Model") return `model ${d.name.name}`;
    // `block B()` and `block B` mean the same; keep whichever was written.
    const parens = this.text.slice(d.name.range.end, open).trimStart().startsWith("(");
    const params = d.params.map(
      (p) => p.name.name + (p.default ? `=${this.expr(p.default, SUM)}` : ""),
    );
    return `block ${d.name.name}` + (parens ? `(${params.join(", ")})` : "");
  }

  /** `header {`, the body one level deeper, and `}`; an empty body is `header {}`. */
  private braced(
    headerLines: string[],
    items: Entry[],
    open: number,
    close: number,
    indent: string,
  ): string[] {
    const { head, lines } = this.sequence(items, open + 1, close, indent + this.indentUnit, false);
    // A header kept as written ends before its `{`, never in a comment (that would hide the `{`).
    const header = headerLines.pop()!.trimEnd();
    const first = head ? this.trailing(`${header} {`, head) : `${header} {`;
    if (lines.length === 0 && !head) return [...headerLines, `${header} {}`];
    return [...headerLines, first, ...lines, `${indent}}`];
  }

  /** The offset of the `{` opening a body, past the header's comments. */
  private findBrace(from: number): number {
    for (let i = from; i < this.text.length; i++) {
      if (this.text[i] === "{") return i;
      if (this.text[i] === "#") i = this.text.indexOf("\n", i);
      if (i < 0) break;
    }
    throw new Error("a parsed body has no '{'");
  }

  private stmt(s: A.Stmt, indent: string): string[] {
    switch (s.kind) {
      case "Input":
        return this.printOrKeep(s.range, indent, () => [
          `${indent}input ${s.name.name}: ${this.expr(s.shape, SUM)}`,
        ]);
      case "Output":
        return this.printOrKeep(s.range, indent, () => [
          `${indent}output ${s.names.map((n) => n.name).join(", ")}`,
        ]);
      case "Bind":
        return this.chainStmt(s.range, `${indent}${s.name.name} = `, s.value, indent);
      case "Chain":
        return this.chainStmt(s.range, indent, s.value, indent);
    }
  }

  /**
   * A layer line or binding: on one line if it fits, else broken before `->`, continuation
   * lines aligned under the first `->` (or two levels in, when that is far right). A comment
   * between two steps breaks the line there.
   */
  private chainStmt(range: A.Span, prefix: string, value: A.Expr, indent: string): string[] {
    const inner = this.inside(range);
    const steps = value.kind === "Chain" ? value.steps : [value];
    const gapOf = (c: A.Comment) =>
      steps.findIndex((s, i) => {
        const next = steps[i + 1];
        return next !== undefined && c.range.pos >= s.range.end && c.range.pos < next.range.pos;
      });
    if (inner.some((c) => gapOf(c) < 0)) return this.verbatim(range, indent);
    const texts = steps.map((s) => this.expr(s, STEP));
    const oneLine = prefix + texts.join(" -> ");
    if (inner.length === 0 && oneLine.length <= this.width) return [oneLine];

    const arrow = prefix.length + texts[0]!.length + 1;
    const cont = " ".repeat(
      arrow - indent.length <= ALIGN_LIMIT ? arrow : indent.length + 2 * this.indentUnit.length,
    );
    const lines: string[] = [];
    let line = prefix + texts[0]!;
    for (let i = 1; i < steps.length; i++) {
      const here = inner.filter((c) => gapOf(c) === i - 1);
      const piece = ` -> ${texts[i]!}`;
      if (here.length === 0 && line.length + piece.length <= this.width) {
        line += piece;
        continue;
      }
      const stepEnd = steps[i - 1]!.range.end;
      for (const c of here) {
        this.printedComments++;
        const own = this.text.slice(stepEnd, c.range.pos).includes("\n");
        if (own) {
          lines.push(line);
          line = cont + c.text.trimEnd();
        } else {
          line = this.trailing(line, c);
        }
      }
      lines.push(line);
      line = `${cont}-> ${texts[i]!}`;
    }
    lines.push(line);
    return lines;
  }

  private expr(e: A.Expr, min: number): string {
    const printed = this.bare(e);
    return strength(e) < min ? `(${printed})` : printed;
  }

  private bare(e: A.Expr): string {
    switch (e.kind) {
      case "Number":
        // As written: `1e-3` stays `1e-3`, `2.` stays `2.`.
        return this.text.slice(e.range.pos, e.range.end);
      case "Bool":
        return String(e.value);
      case "Name":
        return e.name;
      case "Call": {
        const args = e.args.map(
          (a) => (a.name ? `${a.name.name}=` : "") + this.expr(a.value, CHAIN),
        );
        return `${e.callee.name}(${args.join(", ")})`;
      }
      case "Tuple":
        return `[${e.items.map((i) => this.expr(i, CHAIN)).join(", ")}]`;
      case "Binary": {
        const level = strength(e);
        // Left-associative: `a - (b - c)` keeps its parentheses, `(a - b) - c` needs none.
        return `${this.expr(e.left, level)} ${e.op} ${this.expr(e.right, level + 1)}`;
      }
      case "Negate":
        return "-".repeat(e.count) + this.expr(e.operand, UNARY);
      case "Chain":
        return e.steps.map((s) => this.expr(s, STEP)).join(" -> ");
      case "Labeled":
        return `${e.label.name}: ${this.expr(e.expr, SUM)}`;
      case "Missing":
        throw new Error("a file without syntax errors has no missing parts");
    }
  }
}

function strength(e: A.Expr): number {
  switch (e.kind) {
    case "Chain":
      return CHAIN;
    case "Labeled":
      return STEP;
    case "Binary":
      return e.op === "+" || e.op === "-" ? SUM : PRODUCT;
    case "Negate":
      return UNARY;
    default:
      return ATOM;
  }
}
