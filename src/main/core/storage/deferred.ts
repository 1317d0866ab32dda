/** A promise with its outcome decided elsewhere (a commit's), and errors in one line for logs and answers. */

export interface Deferred {
  promise: Promise<void>
  resolve(): void
  reject(error: Error): void
}

export function deferred(): Deferred {
  let resolve!: () => void
  let reject!: (error: Error) => void
  const promise = new Promise<void>((done, failed) => {
    resolve = done
    reject = failed
  })
  // Nobody may be waiting for this commit: its failure is handled here, not an unhandled rejection.
  promise.catch(() => {})
  return { promise, resolve, reject }
}

export const oneLine = (error: unknown) =>
  ((error as Error)?.message ?? String(error)).split('\n')[0]!.trim() || String(error)
