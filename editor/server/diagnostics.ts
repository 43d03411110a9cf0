// The checker's diagnostics as LSP diagnostics: offsets become line/character ranges.
import {
  DiagnosticSeverity,
  type Diagnostic as LspDiagnostic,
  type Range,
} from "vscode-languageserver";
import type { Diagnostic } from "../../compiler/diagnostics.js";
import type { Span } from "../../grammar/ast.js";
import type { LineMap } from "../../grammar/positions.js";
import type { Analysis } from "./analysis.js";

export function toRange(lines: LineMap, span: Span): Range {
  return { start: lines.position(span.pos), end: lines.position(span.end) };
}

export function toLspDiagnostic(analysis: Analysis, d: Diagnostic): LspDiagnostic {
  const related = d.related?.map((r) => ({
    message: r.message,
    location: { uri: analysis.uri, range: toRange(analysis.lines, r.range) },
  }));
  return {
    range: toRange(analysis.lines, d.range),
    severity: d.severity === "error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: d.code,
    source: "netc",
    message: d.message,
    ...(related ? { relatedInformation: related } : {}),
  };
}

export function lspDiagnostics(analysis: Analysis): LspDiagnostic[] {
  return analysis.result.diagnostics.map((d) => toLspDiagnostic(analysis, d));
}
