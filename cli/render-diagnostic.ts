// Renders diagnostics for people: a `file:line:col severity[code]: message` line and a code frame.
import type { Diagnostic } from "../compiler/index.js";
import type { CheckedFile } from "./checked-file.js";
import type { Colors } from "./colors.js";
import type { LineMap } from "../grammar/positions.js";
import { printable } from "./printable.js";

type Range = Diagnostic["range"];
type Paint = (text: string) => string;

/** Every diagnostic of a file, each followed by a blank line. */
export function renderDiagnostics(file: CheckedFile, c: Colors): string {
  return file.result.diagnostics.map((d) => renderDiagnostic(d, file, c) + "\n\n").join("");
}

function renderDiagnostic(d: Diagnostic, file: CheckedFile, c: Colors): string {
  const paint = d.severity === "error" ? c.red : c.yellow;
  const lines = [
    `${location(file, d.range, c)} ${c.bold(paint(`${d.severity}[${d.code}]`))}: ${c.bold(printable(d.message))}`,
    ...frame(file.lines, d.range, "^", paint, c),
  ];
  for (const note of d.related ?? []) {
    lines.push(
      `${location(file, note.range, c)} ${c.cyan("note")}: ${printable(note.message)}`,
      ...frame(file.lines, note.range, "-", c.cyan, c),
    );
  }
  return lines.join("\n");
}

function location(file: CheckedFile, range: Range, c: Colors): string {
  const { line, column } = file.lines.at(range.pos);
  return c.bold(`${printable(file.path)}:${line}:${column}`);
}

const TAB = "    ";
// Wider lines are cut to a window around the range, so a generated one-line file stays readable.
const MAX_WIDTH = 120;
const CONTEXT_BEFORE = 30;

/** The range's first line under a gutter, and a marker line beneath it up to that line's end. */
function frame(lines: LineMap, range: Range, mark: string, paint: Paint, c: Colors): string[] {
  const start = lines.at(range.pos);
  const end = lines.at(range.end);
  const text = printable(lines.lineText(start.line));
  const { cells, cellAt } = layout(text);
  const first = cellAt[Math.min(start.column - 1, text.length)]!;
  const last =
    end.line === start.line ? cellAt[Math.min(end.column - 1, text.length)]! : cells.length;

  let lo = 0;
  let hi = cells.length;
  if (cells.length > MAX_WIDTH) {
    lo = Math.max(0, Math.min(first - CONTEXT_BEFORE, cells.length - MAX_WIDTH));
    hi = lo + MAX_WIDTH;
  }
  const before = lo > 0 ? "…" : "";
  const shown = before + cells.slice(lo, hi).join("") + (hi < cells.length ? "…" : "");
  const pad = " ".repeat(before.length + first - lo);
  // An empty range (such as "expected ']'" at the end of the file) still gets one mark.
  const marks = mark.repeat(Math.max(1, Math.min(last, hi) - first));

  const number = String(start.line);
  const gutter = (label: string) => c.blue(` ${label.padStart(number.length)} |`);
  return [`${gutter(number)} ${shown}`.trimEnd(), `${gutter("")} ${pad}${paint(marks)}`];
}

/** One display cell per character (a tab takes four), and the cell where each UTF-16 index starts. */
function layout(text: string): { cells: string[]; cellAt: number[] } {
  const cells: string[] = [];
  const cellAt: number[] = [];
  for (const char of text) {
    for (let unit = 0; unit < char.length; unit++) cellAt.push(cells.length);
    if (char === "\t") cells.push(...TAB);
    else cells.push(char);
  }
  cellAt.push(cells.length);
  return { cells, cellAt };
}
