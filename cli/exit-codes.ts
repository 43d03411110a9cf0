// The exit statuses of netc; with several files the worst (highest) one wins.
export const ExitCode = {
  ok: 0,
  /**
   * The sources have errors (warnings alone do not fail), `fmt --check` would change a file,
   * or a run failed: on its data, its weights, a diverging loss, or an output it cannot write.
   */
  errors: 1,
  /** Bad command line, or a `.net` file that cannot be read (or, by `fmt`, written). */
  usage: 2,
  /** A bug in netc itself (EX_SOFTWARE from sysexits.h). */
  internal: 70,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function worst(a: ExitCode, b: ExitCode): ExitCode {
  return a > b ? a : b;
}

/** The line after an internal error's: what to do about it. */
export const reportBug =
  "netc: this is a bug in netc, not in your files; please report it with the command you ran and the files it read\n";

/** The statuses as `netc --help` lists them (the README's "Exit codes" says the same). */
export const exitCodeHelp = `
Exit codes:
  ${ExitCode.ok}   success (warnings allowed)
  ${ExitCode.errors}   errors in the sources, files fmt --check would change, or a run that
      failed on its data, its weights, a diverging loss or an output it cannot write
  ${ExitCode.usage}   usage errors (unknown or conflicting options, bad values), and .net files
      that cannot be read (or, by fmt, written)
  ${ExitCode.internal}  a bug in netc: the message says how to report it`;
