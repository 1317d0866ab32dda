import type { ErrorCode } from '../../../shared/result'

/** A refused request; `code` is what the server answers with. */
export class CoordinatorError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'CoordinatorError'
  }
}
