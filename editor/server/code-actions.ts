// Quick fixes: the fixes the checker attached to its diagnostics, as workspace edits.
import { CodeActionKind, type CodeAction, type Range } from "vscode-languageserver";
import { toLspDiagnostic, toRange } from "./diagnostics.js";
import type { Analysis } from "./analysis.js";

export function codeActions(analysis: Analysis, range: Range): CodeAction[] {
  const from = analysis.lines.offset(range.start);
  const to = analysis.lines.offset(range.end);
  return analysis.result.diagnostics
    .filter((d) => d.fixes && d.range.pos <= to && from <= d.range.end)
    .flatMap((d) =>
      d.fixes!.map((fix, i) => ({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [toLspDiagnostic(analysis, d)],
        isPreferred: i === 0,
        edit: {
          changes: {
            [analysis.uri]: fix.edits.map((e) => ({
              range: toRange(analysis.lines, e.range),
              newText: e.newText,
            })),
          },
        },
      })),
    );
}
