// Inlay hints: the output shape at the end of each line of a model's layers.
import { InlayHintKind, type InlayHint, type Range } from "vscode-languageserver";
import { formatShape } from "../../compiler/diagnostics.js";
import type { Analysis } from "./analysis.js";

export function inlayHints(analysis: Analysis, range: Range): InlayHint[] {
  const from = analysis.lines.offset(range.start);
  const to = analysis.lines.offset(range.end);
  // The last term on each line is what the line makes (a chain's earlier steps feed it).
  const lastOnLine = new Map<number, { end: number; shape: readonly number[] }>();
  for (const model of analysis.result.models) {
    const shapes = new Map(model.nodes.map((n) => [n.id, n.shape]));
    for (const term of model.terms) {
      if (term.range.end < from || term.range.end > to) continue;
      const shape = shapes.get(term.node);
      if (!shape) continue;
      const line = analysis.lines.position(term.range.end).line;
      const seen = lastOnLine.get(line);
      if (!seen || term.range.end > seen.end) lastOnLine.set(line, { end: term.range.end, shape });
    }
  }
  return [...lastOnLine.values()]
    .sort((a, b) => a.end - b.end)
    .map(({ end, shape }) => ({
      position: analysis.lines.position(end),
      label: formatShape(shape),
      kind: InlayHintKind.Type,
      paddingLeft: true,
    }));
}
