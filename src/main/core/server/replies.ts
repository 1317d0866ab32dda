/**
 * How HTTP routes answer: JSON `{ error: { code, message } }` with the status
 * its code stands for, or the data of a `Result`.
 */
import type { FastifyReply } from 'fastify'
import type { ErrorCode, Result } from '../../../shared/result'

export const STATUS_OF: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  queue_full: 503,
  unavailable: 503,
  internal: 500,
}

export function sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  return reply.code(STATUS_OF[code]).send({ error: { code, message } })
}

export function sendResult<T>(reply: FastifyReply, result: Result<T>, okStatus = 200): FastifyReply {
  return result.ok ? reply.code(okStatus).send(result.data) : sendError(reply, result.error.code, result.error.message)
}
