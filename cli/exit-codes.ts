// The exit statuses of netc; with several files the worst (highest) one wins.
export const ExitCode = {
  ok: 0,
  /** The sources have errors (warnings alone do not fail). */
  errors: 1,
  /** Bad command line, or a file that cannot be read as a source. */
  usage: 2,
  /** A bug in netc itself (EX_SOFTWARE from sysexits.h). */
  internal: 70,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function worst(a: ExitCode, b: ExitCode): ExitCode {
  return a > b ? a : b;
}
