/**
 * A promise with a time limit: a server that hangs (a stopped process, a
 * dead link) must not hang the node's ticks, which decide whether it still
 * leads and whether it still reaches Redis.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(error()), ms)
  })
  // The loser may still settle later; its outcome no longer matters.
  promise.catch(() => {})
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
