// The TextMate grammar of .net files, built from the compiler's catalog so its names stay current.
// The scripts here are .mts: editor/vscode is a CommonJS package (VS Code `require`s the
// extension's main file), and these build scripts are ESM like the rest of the repository.
import { criterionList, layerList } from "../../../compiler/catalog/index.js";
import { optimizers } from "../../../compiler/catalog/optimizers.js";
import { schedules } from "../../../compiler/catalog/schedules.js";

/** One TextMate rule: a `match` or a `begin`/`end` region, or an `include`. */
export interface GrammarRule {
  name?: string;
  match?: string;
  begin?: string;
  end?: string;
  captures?: Record<string, { name: string }>;
  beginCaptures?: Record<string, { name: string }>;
  endCaptures?: Record<string, { name: string }>;
  include?: string;
  patterns?: GrammarRule[];
}

export interface Grammar {
  $schema: string;
  name: string;
  scopeName: string;
  fileTypes: string[];
  patterns: GrammarRule[];
  repository: Record<string, GrammarRule>;
}

export const grammarPath = "syntaxes/netc.tmLanguage.json";

const NAME = String.raw`[A-Za-z_][A-Za-z0-9_]*`;

/** The names the grammar highlights as library names, per kind, sorted. */
function catalogNames(): {
  layers: string[];
  criteria: string[];
  optimizers: string[];
  schedules: string[];
} {
  const sorted = (names: string[]) => [...names].sort();
  return {
    layers: sorted(layerList.map((l) => l.name)),
    criteria: sorted(criterionList.map((c) => c.name)),
    optimizers: sorted(optimizers.map((o) => o.name)),
    schedules: sorted(schedules.map((s) => s.name)),
  };
}

const words = (names: string[]) => String.raw`\b(?:${names.join("|")})\b`;
const scope = (name: string) => ({ name: `${name}.netc` });

export function buildGrammar(): Grammar {
  const names = catalogNames();
  return {
    $schema: "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
    name: "netc",
    scopeName: "source.netc",
    fileTypes: ["net"],
    patterns: [
      { include: "#comment" },
      { include: "#declaration" },
      { include: "#binding" },
      { include: "#expression" },
    ],
    repository: {
      comment: {
        match: "(#).*$",
        name: "comment.line.number-sign.netc",
        captures: { "1": scope("punctuation.definition.comment") },
      },
      declaration: {
        patterns: [
          {
            match: String.raw`\b(model)\s+(${NAME})`,
            captures: { "1": scope("keyword.other.model"), "2": scope("entity.name.type.model") },
          },
          {
            match: String.raw`\b(block)\s+(${NAME})`,
            captures: {
              "1": scope("keyword.other.block"),
              "2": scope("entity.name.function.block"),
            },
          },
          {
            match: String.raw`\b(input)\s+(${NAME})\s*(:)?`,
            captures: {
              "1": scope("keyword.other.input"),
              "2": scope("variable.other.definition.input"),
              "3": scope("punctuation.separator.shape"),
            },
          },
          {
            match: String.raw`\b(criterion|train|output|model|block|input)\b`,
            name: "keyword.other.netc",
          },
        ],
      },
      // `name = ...` at the start of a line binds a value (or is a train setting); elsewhere
      // `name=` is a named argument, which the parentheses rule scopes.
      binding: {
        match: String.raw`^\s*(${NAME})\s*(=)`,
        captures: {
          "1": scope("variable.other.definition"),
          "2": scope("keyword.operator.assignment"),
        },
      },
      expression: {
        patterns: [
          { include: "#comment" },
          { include: "#label" },
          { include: "#library" },
          { include: "#constant" },
          { include: "#number" },
          { include: "#operator" },
          { include: "#arguments" },
          { include: "#tuple" },
          { include: "#name" },
        ],
      },
      label: {
        match: String.raw`\b(${NAME})\s*(:)`,
        captures: { "1": scope("entity.name.label"), "2": scope("punctuation.separator.label") },
      },
      library: {
        patterns: [
          { match: words(names.layers), name: "support.function.layer.netc" },
          { match: words(names.criteria), name: "support.function.criterion.netc" },
          { match: words(names.optimizers), name: "support.function.optimizer.netc" },
          { match: words(names.schedules), name: "support.function.schedule.netc" },
        ],
      },
      constant: { match: String.raw`\b(?:true|false)\b`, name: "constant.language.boolean.netc" },
      number: {
        patterns: [
          {
            match: String.raw`(?<![\w.])(?:\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)(?![\w.])`,
            name: "constant.numeric.float.netc",
          },
          { match: String.raw`(?<![\w.])\d+(?![\w.])`, name: "constant.numeric.integer.netc" },
        ],
      },
      operator: {
        patterns: [
          { match: "->", name: "keyword.operator.arrow.netc" },
          { match: "[-+*/]", name: "keyword.operator.arithmetic.netc" },
          { match: "=", name: "keyword.operator.assignment.netc" },
          { match: ",", name: "punctuation.separator.comma.netc" },
          { match: "[{}]", name: "punctuation.section.block.netc" },
        ],
      },
      // A region, so a named argument on a continued line of a split argument list is still
      // scoped as one rather than as a binding.
      arguments: {
        begin: String.raw`\(`,
        end: String.raw`\)`,
        beginCaptures: { "0": scope("punctuation.section.arguments.begin") },
        endCaptures: { "0": scope("punctuation.section.arguments.end") },
        patterns: [
          {
            match: String.raw`\b(${NAME})\s*(=)`,
            captures: {
              "1": scope("variable.parameter"),
              "2": scope("keyword.operator.assignment"),
            },
          },
          { include: "#expression" },
        ],
      },
      tuple: {
        begin: String.raw`\[`,
        end: String.raw`\]`,
        beginCaptures: { "0": scope("punctuation.section.tuple.begin") },
        endCaptures: { "0": scope("punctuation.section.tuple.end") },
        patterns: [{ include: "#expression" }],
      },
      name: {
        patterns: [
          // Inside a block, `in` names the block's input; it is not a keyword.
          { match: String.raw`\bin\b`, name: "variable.language.in.netc" },
          { match: String.raw`\b${NAME}(?=\s*\()`, name: "entity.name.function.call.netc" },
          { match: String.raw`\b${NAME}\b`, name: "variable.other.netc" },
        ],
      },
    },
  };
}
