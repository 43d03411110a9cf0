// A CSV file as a data set (papaparse; no Node imports): a header row names the columns, the
// `--label` columns are the targets and every other column is an input feature.
import Papa from "papaparse";
import { NetcError } from "../errors.js";
import type { ExpectedTarget, ModelExpectation } from "./check-dataset.js";
import { formatShape, sizeOf, type Dataset, type Target } from "./dataset.js";
import { classTarget, indexNames, listClasses, targetPrefix } from "./labels.js";

/** The cells of a CSV file: the header's names and each data row with its line number. */
export interface Table {
  name: string;
  columns: string[];
  rows: string[][];
  /** The 1-based line each row starts on. */
  lines: number[];
}

/**
 * Parses CSV text (`delimiter` `,` or a tab); the first row names the columns. Blank lines are
 * skipped; a row with more or fewer cells than the header is an error naming its line.
 */
export function parseTable(text: string, name: string, delimiter: string): Table {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const cells: string[][] = [];
  const lines: number[] = [];
  let line = 1;
  let start = 0;
  let quoteError: string | undefined;
  Papa.parse<string[]>(text, {
    delimiter,
    step(result) {
      const end = result.meta.cursor;
      const row = result.data;
      const error = result.errors.find((e) => e.type === "Quotes");
      if (error && quoteError === undefined)
        quoteError = `line ${line} of ${name}: ${error.message.toLowerCase()}`;
      if (!(row.length === 1 && row[0]!.trim() === "")) {
        cells.push(row);
        lines.push(line);
      }
      for (let i = start; i < end; i++) if (text.charCodeAt(i) === 10) line++;
      start = end;
    },
  });
  if (quoteError !== undefined) throw new NetcError(quoteError);
  const header = cells.shift();
  const headerLine = lines.shift();
  if (!header) throw new NetcError(`${name} is empty: it needs a header row naming the columns`);
  const columns = header.map((c) => c.trim());
  const seen = new Set<string>();
  for (const column of columns) {
    if (column === "") {
      throw new NetcError(
        `line ${headerLine} of ${name}, the header, has an empty column name: the first row must name every column`,
      );
    }
    if (seen.has(column)) throw new NetcError(`${name} names column ${column} twice`);
    seen.add(column);
  }
  cells.forEach((row, i) => {
    if (row.length !== columns.length) {
      throw new NetcError(
        `line ${lines[i]} of ${name} has ${row.length} fields but the header has ${columns.length} (${columns.join(", ")})`,
      );
    }
  });
  return { name, columns, rows: cells, lines };
}

/** A decimal number, as CSV writers write them: no hex, no `inf`, no empty cell. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function numberAt(table: Table, row: number, column: number): number | undefined {
  const cell = table.rows[row]![column]!.trim();
  return NUMBER.test(cell) ? Number(cell) : undefined;
}

function where(table: Table, row: number, column: number): string {
  return `line ${table.lines[row]} of ${table.name}, column ${table.columns[column]}`;
}

function numbers(table: Table, column: number, into: Float32Array, at: (row: number) => number) {
  for (let r = 0; r < table.rows.length; r++) {
    const value = numberAt(table, r, column);
    if (value === undefined || !Number.isFinite(value)) {
      const cell = table.rows[r]![column]!.trim();
      throw new NetcError(
        `${where(table, r, column)}: ${cell === "" ? "the cell is empty" : `'${cell}' is not a number`}`,
      );
    }
    into[at(r)] = value;
  }
}

/** A column of class labels: integers as they are, or names sorted into indices. */
function classColumn(table: Table, column: number): { indices: Int32Array; names?: string[] } {
  const values = table.rows.map((row) => row[column]!.trim());
  const empty = values.indexOf("");
  if (empty >= 0) throw new NetcError(`${where(table, empty, column)}: the cell is empty`);
  if (values.every((v) => NUMBER.test(v))) {
    const fraction = values.findIndex((v) => !Number.isInteger(Number(v)));
    if (fraction >= 0) {
      throw new NetcError(
        `${where(table, fraction, column)}: '${values[fraction]}' is not a class: class labels are integers (0, 1, ...) or names`,
      );
    }
    return { indices: Int32Array.from(values, Number) };
  }
  return indexNames(values);
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
  const count = table.rows.length;
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
  const isNames = () => table.rows.every((row) => !NUMBER.test(row[first]!.trim()));
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
  const data = new Float32Array(table.rows.length * size);
  columns.forEach((column, k) => numbers(table, column, data, (r) => r * size + k));
  return {
    target: { output: term.output, data, shape: [...term.target] },
    note: `${from}: values`,
  };
}
