// `netc train --init FILE`: what the file gave the model and what it left, as PyTorch's
// load_state_dict(strict=False) reports its missing and unexpected keys.
import type { LoadReport } from "../runtime/api-types.js";
import { printable } from "./printable.js";

/** Names shown per line: a large model's list would bury the rest of the report. */
const SHOWN = 12;

function list(names: readonly string[]): string {
  const more = names.length - SHOWN;
  return names.slice(0, SHOWN).join(", ") + (more > 0 ? ` and ${more} more` : "");
}

const shape = (dims: readonly number[]) => `[${dims.join(", ")}]`;

export function formatLoadReport(report: LoadReport, source: string): string {
  const total = report.loaded.length + report.skipped.length + report.missing.length;
  const skipped = report.skipped.map((s) =>
    s.reason === "shape"
      ? `${s.name} (the model's ${shape(s.shape)}, the file's ${shape(s.file.shape)})`
      : `${s.name} (${s.file.dtype} in the file, not a float)`,
  );
  const lines = [
    `initial weights from ${source}: ${report.loaded.length} of the model's ${total} tensors`,
    `  loaded: ${list(report.loaded)}`,
    ...(skipped.length > 0 ? [`  skipped: ${list(skipped)}`] : []),
    ...(report.missing.length > 0
      ? [`  not in the file, left as initialised: ${list(report.missing)}`]
      : []),
    ...(report.unexpected.length > 0
      ? [`  not in the model, ignored: ${list(report.unexpected)}`]
      : []),
  ];
  return lines.map(printable).join("\n");
}
