// Formatting: the whole document through the one formatter; a file with syntax errors is left alone.
import type { FormattingOptions, TextEdit } from "vscode-languageserver";
import { format } from "../../grammar/format.js";
import type { Analysis } from "./analysis.js";

export function formatting(analysis: Analysis, options: FormattingOptions): TextEdit[] {
  const formatted = format(analysis.text, { indent: options.tabSize });
  // The diagnostics already say why a file with syntax errors cannot be formatted.
  if ("error" in formatted || formatted.text === analysis.text) return [];
  const end = analysis.lines.position(analysis.text.length);
  return [{ range: { start: { line: 0, character: 0 }, end }, newText: formatted.text }];
}
