// Whether a stream gets ANSI colors: only terminals, unless NO_COLOR or FORCE_COLOR say otherwise.
import pc from "picocolors";

export type Colors = ReturnType<typeof pc.createColors>;

export function colorsFor(stream: { isTTY?: boolean }, env = process.env): Colors {
  return pc.createColors(colorEnabled(stream, env));
}

// NO_COLOR is the user's standing wish (no-color.org: any non-empty value), so it beats
// FORCE_COLOR, as in picocolors itself; FORCE_COLOR=0 or false turns colors off, as in Node.
function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env["NO_COLOR"]) return false;
  const force = env["FORCE_COLOR"];
  if (force !== undefined) return force !== "0" && force !== "false";
  return stream.isTTY === true;
}
