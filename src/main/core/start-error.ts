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
