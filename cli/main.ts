// The `netc` program: wires each command to commander and turns every outcome into an exit status.
import { Command, CommanderError } from "commander";
import { runCheck, type CheckOptions } from "./check-command.js";
import { ExitCode } from "./exit-codes.js";
import { printable } from "./printable.js";
import { runShapes } from "./shapes-command.js";

const program = new Command("netc")
  .description("Check .net neural-network descriptions and show their shapes.")
  // Throw instead of exiting so that usage errors get netc's exit status and one-line form.
  .exitOverride()
  .configureOutput({ outputError: (message, write) => write(usageLine(message)) });

program
  .command("check")
  .description("report errors and warnings with their source lines")
  .argument("<files...>", ".net files to check")
  .option("--json", "print the diagnostics as a JSON array instead")
  .action((files: string[], options: CheckOptions) => {
    process.exitCode = runCheck(files, options);
  });

program
  .command("shapes")
  .description("print each layer's output shape, parameters and FLOPs")
  .argument("<files...>", ".net files to summarize")
  .action((files: string[]) => {
    process.exitCode = runShapes(files);
  });

// Commander words its errors `error: ...`, sometimes with "(Did you mean x?)" on a second line.
function usageLine(message: string): string {
  const text = message
    .trim()
    .replace(/^error: /, "")
    .replace(/\s*\(Did you mean (.*)\)$/, "; did you mean $1")
    .replace(/\s*\n\s*/g, " ");
  return `netc: ${printable(text)} (see 'netc --help')\n`;
}

// A reader that stops early (`netc shapes *.net | head`) closes the pipe: that is no failure.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? ExitCode.ok);
  process.stderr.write(`netc: cannot write the output: ${error.code ?? error.message}\n`);
  process.exit(ExitCode.usage);
});

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version end in a CommanderError too, with status 0.
    process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  } else {
    const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
    process.stderr.write(`netc: internal error: ${printable(reason)}\n`);
    process.exitCode = ExitCode.internal;
  }
}
