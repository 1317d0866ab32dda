/** A start that cannot succeed for a reason the operator can fix (port taken, data dir in use…): exit 1, said plainly. */
export class StartError extends Error {
  override name = 'StartError'
}
