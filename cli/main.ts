// The `netc` program: wires each command to commander and turns every outcome into an exit status.
import { Command, CommanderError, Option } from "commander";
import { backendNames } from "../compiler/backends/backend.js";
import { NetcError } from "../runtime/errors.js";
import { runCheck, type CheckOptions } from "./check-command.js";
import { DEFAULT_RUNTIME, runCompile, type CompileCommandOptions } from "./compile-command.js";
import { runData, type DataCommandOptions } from "./data-command.js";
import { dataOption, labelOption, resizeOption, testSplitOption } from "./data-options.js";
import { runEval, type EvalCommandOptions } from "./eval-command.js";
import { ExitCode, exitCodeHelp, reportBug } from "./exit-codes.js";
import { exportFormats, runExport, type ExportCommandOptions } from "./export-command.js";
import { runFmt, type FmtOptions } from "./fmt-command.js";
import { runImport, type ImportCommandOptions } from "./import-command.js";
import { runLsp, type LspOptions } from "./lsp-command.js";
import { monitorNames } from "../runtime/early-stopping.js";
import {
  nonNegativeInteger,
  nonNegativeNumber,
  positiveInteger,
  portNumber,
  positiveNumber,
  seedValue,
} from "./option-values.js";
import { printable } from "./printable.js";
import { runPlayground, type PlaygroundOptions } from "./playground-command.js";
import { runShapes, type ShapesOptions } from "./shapes-command.js";
import { runTrain, type TrainCommandOptions } from "./train-command.js";
import { UsageError } from "./usage-error.js";

const program = new Command("netc")
  .description("Check, compile, train and evaluate .net neural-network descriptions.")
  // Throw instead of exiting so that usage errors get netc's exit status and one-line form.
  .exitOverride()
  .configureOutput({ outputError: (message, write) => write(usageLine(message)) })
  .addHelpText("after", exitCodeHelp);

program
  .command("check")
  .description("report errors and warnings with their source lines")
  .argument("<files...>", ".net files to check")
  .option("--json", "print the diagnostics as a JSON array instead")
  .action((files: string[], options: CheckOptions) => {
    process.exitCode = runCheck(files, options);
  });

// train and eval choose their kernels alike.
const backendOption = () =>
  new Option(
    "--backend <backend>",
    "the kernels: wasm (default where WebAssembly SIMD exists) or ts",
  ).choices(backendNames);
const threadsOption = () =>
  new Option("--threads <n>", "threads for the WASM kernels (default: every core)").argParser(
    positiveInteger,
  );

program
  .command("fmt")
  .description("rewrite files in the standard layout, keeping comments")
  .argument("<files...>", ".net files to format in place")
  .option("--check", "change nothing; list the files that would change and exit 1 if any")
  .action((files: string[], options: FmtOptions) => {
    process.exitCode = runFmt(files, options);
  });

program
  .command("shapes")
  .description("print each layer's output shape, parameters and FLOPs")
  .argument("<files...>", ".net files to summarize")
  .option("--kernels", "list the compiled steps instead: each one's layers and where it runs")
  .option("--json", "with --kernels: print the steps as a JSON array")
  .addOption(
    new Option(
      "--backend <backend>",
      "with --kernels: the backend compiled for (default wasm)",
    ).choices(backendNames),
  )
  .action((files: string[], options: ShapesOptions) => {
    if ((options.json || options.backend) && !options.kernels)
      throw new UsageError("--json and --backend go with --kernels");
    process.exitCode = runShapes(files, options);
  });

program
  .command("compile")
  .description("write the model as an ES module and its declarations")
  .argument("<file>", "the .net file")
  .addOption(
    new Option(
      "--backend <backend>",
      "wasm: WASM SIMD kernels with the JS ones as fallback; ts: JS only",
    )
      .choices(backendNames)
      .default("wasm"),
  )
  .option("--out-dir <dir>", "where to write the files", "out")
  .option("--standalone", "inline the runtime: the module imports nothing")
  .option(
    "--runtime <specifier>",
    `what the module imports the runtime from (default ${DEFAULT_RUNTIME})`,
  )
  .option("--model <name>", "which model of the file (default: the first)")
  .action((file: string, options: CompileCommandOptions) => {
    process.exitCode = runCompile(file, options);
  });

program
  .command("train")
  .description("train the model on the data its task calls for")
  .argument("<file>", "the .net file")
  .addOption(dataOption())
  .addOption(labelOption())
  .addOption(testSplitOption())
  .addOption(resizeOption())
  .option(
    "--epochs <n>",
    "passes over the training set (default: the train block's)",
    positiveInteger,
  )
  .option("--batch <n>", "samples per step (default: the train block's)", positiveInteger)
  .option(
    "--lr <rate>",
    "the learning rate, which the train block's schedule scales (default: its optimizer's)",
    positiveNumber,
  )
  .option(
    "--seed <n>",
    "seed of initialisation, shuffling, dropout and a held-out test set",
    seedValue,
  )
  .option("--save <file>", "write the weights (safetensors) when training has finished")
  .option("--metrics <file>", "write each epoch's numbers as a line of JSON")
  .option("--limit <n>", "train on the first n training samples only", positiveInteger)
  .option("--eval-train", "also evaluate the whole training set in evaluation mode each epoch")
  .option("--checkpoint <file>", "write weights, optimizer and loop state after every epoch")
  .option("--resume <file>", "go on from a checkpoint to --epochs, as if never interrupted")
  .option(
    "--patience <n>",
    "stop after n epochs without improvement of the monitored test metric",
    nonNegativeInteger,
  )
  .option("--keep-best", "end with (and --save) the weights of the best epoch")
  .addOption(
    new Option("--monitor <metric>", "the test metric watched (default loss)").choices(
      monitorNames,
    ),
  )
  .option("--min-delta <d>", "the least change that counts as an improvement", nonNegativeNumber)
  .option("--curve", "print the loss and accuracy curves at the end even when not on a terminal")
  .option(
    "--allow <lint>",
    "train despite a lint that makes the loss meaningless (nll-without-logsoftmax, bce-without-sigmoid, kldiv-without-logsoftmax); repeatable",
    (value: string, previous: string[] = []) => [...previous, value],
  )
  .option(
    "--init <file>",
    "start from the tensors of a safetensors file that match the model's by name and shape",
  )
  .addOption(backendOption())
  .addOption(threadsOption())
  .option("--model <name>", "which model of the file (default: the first)")
  .action((file: string, options: TrainCommandOptions) => {
    process.exitCode = runTrain(file, options);
  });

program
  .command("eval")
  .description("report the test loss and metrics of saved weights")
  .argument("<file>", "the .net file")
  .requiredOption("--weights <file>", "weights saved by netc train --save (safetensors)")
  .addOption(dataOption())
  .addOption(labelOption())
  .addOption(testSplitOption())
  .addOption(resizeOption())
  .option(
    "--seed <n>",
    "the seed training held its test set out by (default: the train block's)",
    seedValue,
  )
  .option("--batch <n>", "samples per pass (default: the train block's)", positiveInteger)
  .addOption(backendOption())
  .addOption(threadsOption())
  .option("--model <name>", "which model of the file (default: the first)")
  .action((file: string, options: EvalCommandOptions) => {
    process.exitCode = runEval(file, options);
  });

program
  .command("export")
  .description("write the model for another framework: ONNX with its weights, or a PyTorch module")
  .argument("<file>", "the .net file")
  .addOption(
    new Option("--format <format>", "onnx (the graph and its weights) or torch (a .py module)")
      .choices(exportFormats)
      .default("onnx"),
  )
  .option(
    "--weights <file>",
    "onnx: weights saved by netc train --save (default: the initial weights)",
  )
  .option("--out <file>", "the file to write (default: the .net file's name, .onnx or .py, here)")
  .option("--seed <n>", "onnx without --weights: the seed of the initial weights", seedValue)
  .option("--model <name>", "which model of the file (default: the first)")
  .action((file: string, options: ExportCommandOptions) => {
    process.exitCode = runExport(file, options);
  });

program
  .command("import")
  .description("write an ONNX model as a .net file and its weights as a .safetensors beside it")
  .argument("<file>", "the .onnx file")
  .option("--out <file>", "the .net file to write (default: the ONNX file's name, .net, here)")
  .action((file: string, options: ImportCommandOptions) => {
    process.exitCode = runImport(file, options);
  });

program
  .command("data")
  .description("write the data train would use, as a .npz in netc's layout (for other tools)")
  .argument("<file>", "the .net file")
  .requiredOption("--out <file>", "the .npz to write: x_train, y_train, x_test, y_test")
  .addOption(dataOption())
  .addOption(labelOption())
  .addOption(testSplitOption())
  .addOption(resizeOption())
  .option("--seed <n>", "the seed of a held-out test set (default: the train block's)", seedValue)
  .option("--limit <n>", "the first n training samples only", positiveInteger)
  .option("--model <name>", "which model of the file (default: the first)")
  .action((file: string, options: DataCommandOptions) => {
    process.exitCode = runData(file, options);
  });

program
  .command("lsp")
  .description("run the language server for editors")
  .option("--stdio", "speak LSP over standard input and output")
  .option(
    "--debounce <ms>",
    "pause after an edit before checking (0: check every version)",
    nonNegativeInteger,
    50,
  )
  .action((options: LspOptions) => {
    runLsp(options);
  });

program
  .command("playground")
  .description("serve the browser playground on 127.0.0.1: edit, see the graph, train, look inside")
  .option("--port <n>", "the port (default 8080)", portNumber)
  .option("--build <dir>", "write the playground as static files to dir instead of serving it")
  .action(async (options: PlaygroundOptions) => {
    if (options.build !== undefined && options.port !== undefined)
      throw new UsageError("--port and --build do not go together");
    await runPlayground(options);
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
  } else if (error instanceof NetcError) {
    // The user's mistake (data, weights, settings): its message alone says what to fix.
    // A message may list details on indented lines after the first.
    const lines = error.message.split("\n").map(printable);
    process.stderr.write(`netc: ${lines.join("\n")}\n`);
    process.exitCode = error instanceof UsageError ? ExitCode.usage : ExitCode.errors;
  } else {
    const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
    process.stderr.write(`netc: internal error: ${printable(reason)}\n${reportBug}`);
    process.exitCode = ExitCode.internal;
  }
}
