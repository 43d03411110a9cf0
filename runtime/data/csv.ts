// A CSV file as a data set (papaparse; no Node imports): a header row names the columns, the
// `--label` columns are the targets and every other column is an input feature.
import Papa from "papaparse";
import { NetcError } from "../errors.js";
import type { ExpectedTarget, ModelExpectation } from "./check-dataset.js";
import { formatShape, sizeOf, type Dataset, type Target } from "./dataset.js";
import { classTarget, indexNames, listClasses, targetPrefix } from "./labels.js";

/**
 * The cells of a CSV file: the header's names, and per data row its line and its cells as
 * numbers. Only cells that are not numbers keep their text, so that a file of 40,000 rows of
 * 785 pixels holds 40,000 arrays, not 31 million strings.
 */
export interface Table {
  name: string;
  columns: string[];
  /** Per row, the value of each cell; NaN where the cell is not a decimal number. */
  values: Float64Array[];
  /** The text of each cell that is not a number (empty, a name), by `row * columns + column`. */
  texts: Map<number, string>;
  /** The 1-based line each row starts on. */
  lines: number[];
}

/** A decimal number, as CSV writers write them: no hex, no `inf`, no empty cell. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses CSV text (`delimiter` `,` or a tab); the first row names the columns. Blank lines are
 * skipped; a row with more or fewer cells than the header is an error naming its line.
 */
export function parseTable(text: string, name: string, delimiter: string): Table {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let columns: string[] | undefined;
  const table: Table = { name, columns: [], values: [], texts: new Map(), lines: [] };
  let line = 1;
  let start = 0;
  let failure: NetcError | undefined;
  const row = (cells: string[]) => {
    if (!columns) {
      columns = header(cells, line, name);
      return;
    }
    if (cells.length !== columns.length) {
      throw new NetcError(
        `line ${line} of ${name} has ${cells.length} fields but the header has ${columns.length} (${columns.join(", ")})`,
      );
    }
    const values = new Float64Array(cells.length);
    const base = table.values.length * cells.length;
    cells.forEach((cell, c) => {
      const trimmed = cell.trim();
      if (NUMBER.test(trimmed)) values[c] = Number(trimmed);
      else {
        values[c] = NaN;
        table.texts.set(base + c, trimmed);
      }
    });
    table.values.push(values);
    table.lines.push(line);
  };
  Papa.parse<string[]>(text, {
    delimiter,
    step(result, parser) {
      const cells = result.data;
      const quotes = result.errors.find((e) => e.type === "Quotes");
      try {
        if (quotes) throw new NetcError(`line ${line} of ${name}: ${quotes.message.toLowerCase()}`);
        if (!(cells.length === 1 && cells[0]!.trim() === "")) row(cells);
      } catch (error) {
        failure = error as NetcError;
        parser.abort();
      }
      const end = result.meta.cursor;
      for (let i = start; i < end; i++) if (text.charCodeAt(i) === 10) line++;
      start = end;
    },
  });
  if (failure) throw failure;
  if (!columns) throw new NetcError(`${name} is empty: it needs a header row naming the columns`);
  table.columns = columns;
  return table;
}

/** The header's column names, each given once. */
function header(cells: string[], line: number, name: string): string[] {
  const columns = cells.map((c) => c.trim());
  const seen = new Set<string>();
  for (const column of columns) {
    if (column === "") {
      throw new NetcError(
        `line ${line} of ${name}, the header, has an empty column name: the first row must name every column`,
      );
    }
    if (seen.has(column)) throw new NetcError(`${name} names column ${column} twice`);
    seen.add(column);
  }
  return columns;
}

/** A cell's text: kept for cells that are not numbers, the number's own for the others. */
function textAt(table: Table, row: number, column: number): string {
  const text = table.texts.get(row * table.columns.length + column);
  return text ?? String(table.values[row]![column]);
}

function where(table: Table, row: number, column: number): string {
  return `line ${table.lines[row]} of ${table.name}, column ${table.columns[column]}`;
}

function numbers(table: Table, column: number, into: Float32Array, at: (row: number) => number) {
  table.values.forEach((values, r) => {
    const value = values[column]!;
    if (!Number.isFinite(value)) {
      const cell = textAt(table, r, column);
      throw new NetcError(
        `${where(table, r, column)}: ${cell === "" ? "the cell is empty" : `'${cell}' is not a number`}`,
      );
    }
    into[at(r)] = value;
  });
}

const isNumber = (table: Table, row: number, column: number) =>
  !table.texts.has(row * table.columns.length + column);

/** A column of class labels: integers as they are, or names sorted into indices. */
function classColumn(table: Table, column: number): { indices: Int32Array; names?: string[] } {
  const rows = table.values.length;
  const texts = Array.from({ length: rows }, (_, r) => textAt(table, r, column));
  const empty = texts.indexOf("");
  if (empty >= 0) throw new NetcError(`${where(table, empty, column)}: the cell is empty`);
  if (texts.every((_, r) => isNumber(table, r, column))) {
    const fraction = table.values.findIndex((v) => !Number.isInteger(v[column]));
    if (fraction >= 0) {
      throw new NetcError(
        `${where(table, fraction, column)}: '${texts[fraction]}' is not a class: class labels are integers (0, 1, ...) or names`,
      );
    }
    return { indices: Int32Array.from(table.values, (v) => v[column]!) };
  }
  // Names; a numeric cell among them is named by its number (`01` as `1`).
  return indexNames(texts);
}

/** The column's index, or an error listing the columns there are. */
function columnIndex(table: Table, label: string): number {
  const index = table.columns.indexOf(label);
  if (index < 0) {
    throw new NetcError(
      `${table.name} has no column ${label}; its columns are: ${table.columns.join(", ")}`,
    );
  }
  return index;
}

export interface TableSet {
  dataset: Dataset;
  /** How the label columns became targets, one line each: `species: 3 classes, 0 setosa, ...`. */
  notes: string[];
}

/**
 * The rows of `table` as a data set for `model`: the `labels` columns feed the criterion's terms
 * in order (a class index takes one column, a target of k values k columns), and the remaining
 * columns, in file order, fill each sample's input row-major. Without labels (`reconstruct`),
 * every column is a feature.
 */
export function tableSet(
  table: Table,
  labels: readonly string[],
  model: ModelExpectation,
): TableSet {
  const labelColumns = labels.map((label) => columnIndex(table, label));
  const features = table.columns.map((_, i) => i).filter((i) => !labelColumns.includes(i));
  const inputSize = sizeOf(model.inputShape);
  if (features.length !== inputSize) {
    const besides =
      labels.length > 0
        ? ` besides the label${labels.length > 1 ? "s" : ""} ${labels.join(", ")}`
        : "";
    const names = features.map((i) => table.columns[i]).join(", ");
    throw new NetcError(
      `${table.name} has ${features.length} feature columns${besides} (${names}) but model ${model.model} takes input ${formatShape(model.inputShape)}: ${inputSize} values per sample`,
    );
  }
  const count = table.values.length;
  const inputs = new Float32Array(count * inputSize);
  features.forEach((column, f) => numbers(table, column, inputs, (r) => r * inputSize + f));
  const locate = (record: number) => `line ${table.lines[record]} of ${table.name}`;
  const dataset: Dataset = {
    inputs,
    inputShape: [...model.inputShape],
    count,
    targets: [],
    locate,
  };
  const notes: string[] = [];
  if (labels.length === 0) return { dataset, notes };

  const needs = model.criterion.map((term) =>
    term.targetKind === "classes" ? 1 : sizeOf(term.target),
  );
  const total = needs.reduce((a, b) => a + b, 0);
  if (total !== labels.length) {
    const wants = model.criterion
      .map((term, i) => `${term.criterion}(${term.output}) ${needs[i]}`)
      .join(", ");
    throw new NetcError(
      `--label names ${labels.length} column${labels.length === 1 ? "" : "s"} (${labels.join(", ")}) but model ${model.model}'s criterion takes ${total} target value${total === 1 ? "" : "s"} per sample: ${wants}`,
    );
  }
  let next = 0;
  for (const [t, term] of model.criterion.entries()) {
    const columns = labelColumns.slice(next, next + needs[t]!);
    next += needs[t]!;
    const { target, note } = columnsTarget(table, columns, term, model);
    dataset.targets.push(target);
    notes.push(note);
  }
  return { dataset, notes };
}

/**
 * The target of `term` from `columns`: class indices from integers or sorted names; values from
 * numbers, or from a column of two names as 0 and 1 (a binary output), or of k names one-hot.
 */
function columnsTarget(
  table: Table,
  columns: number[],
  term: ExpectedTarget,
  model: ModelExpectation,
): { target: Target; note: string } {
  const named = columns.map((c) => table.columns[c]).join(", ");
  const from = `${targetPrefix(model, term)}column${columns.length > 1 ? "s" : ""} ${named}`;
  const first = columns[0]!;
  const isNames = () => table.values.every((_, r) => !isNumber(table, r, first));
  if (term.targetKind === "classes" || (columns.length === 1 && isNames())) {
    const { indices, names } = classColumn(table, first);
    if (names) {
      const what = `column ${named} of ${table.name}`;
      const target = classTarget(indices, names, term, model.model, what);
      const note = `${from}: ${names.length} classes in sorted order: ${listClasses(names)}`;
      return { target, note };
    }
    const target: Target = { output: term.output, data: indices, shape: [] };
    return { target, note: `${from}: class indices` };
  }
  const size = sizeOf(term.target);
  const data = new Float32Array(table.values.length * size);
  columns.forEach((column, k) => numbers(table, column, data, (r) => r * size + k));
  return {
    target: { output: term.output, data, shape: [...term.target] },
    note: `${from}: values`,
  };
}
