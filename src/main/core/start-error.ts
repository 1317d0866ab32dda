/** The two ways a start ends that the operator can fix, each said plainly (src/main/cli.ts prints them). */

/**
 * A start that cannot succeed for a reason the operator can fix (port taken, data dir in use…): said plainly,
 * exit 1; or exit 2 when a setting points at something unusable (an unreachable or refusing history database).
 */
export class StartError extends Error {
  override name = 'StartError'
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message)
  }
}

/** A setting that is wrong (a bad flag, variable, file or token file): exit 2, said with what is wrong. */
export class ConfigError extends Error {
  /** 0 for `--help` and `--version`, whose "error" is the text to print. */
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message)
    this.name = 'ConfigError'
  }
}
