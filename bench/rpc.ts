/**
 * Typed request/response over a Node IPC channel (fork). The orchestrator
 * calls, a child answers; every call has a deadline, so no wait is unbounded.
 */
import type { ChildProcess } from 'node:child_process'

/** Method name → [params, result]. */
export type Api<A> = { [K in keyof A]: [unknown, unknown] }

export type Handlers<A extends Api<A>> = { [K in keyof A]: (params: A[K][0]) => Promise<A[K][1]> }

interface Request {
  id: number
  method: string
  params: unknown
}

type Response = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string }

function isRequest(message: unknown): message is Request {
  return typeof message === 'object' && message !== null && 'method' in message && 'id' in message
}

function isResponse(message: unknown): message is Response {
  return typeof message === 'object' && message !== null && 'ok' in message && 'id' in message
}

/** In a child: answers the parent's calls with `handlers`. */
export function serve<A extends Api<A>>(handlers: Handlers<A>): void {
  process.on('message', (message: unknown) => {
    if (!isRequest(message)) return
    const handler = (handlers as Record<string, (params: unknown) => Promise<unknown>>)[message.method]
    const reply = (response: Response) => process.send?.(response)
    if (!handler) {
      reply({ id: message.id, ok: false, error: `no method ${message.method}` })
      return
    }
    handler(message.params).then(
      (result) => reply({ id: message.id, ok: true, result: result ?? null }),
      (error: unknown) =>
        reply({
          id: message.id,
          ok: false,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
    )
  })
  // The parent going away (crash, Ctrl-C) ends the child too.
  process.on('disconnect', () => process.exit(0))
}

/** In the parent: calls into one child. */
export class Caller<A extends Api<A>> {
  private nextId = 1
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()

  constructor(
    private readonly child: ChildProcess,
    private readonly name: string,
  ) {
    child.on('message', (message: unknown) => {
      if (!isResponse(message)) return
      const entry = this.waiting.get(message.id)
      if (!entry) return
      this.waiting.delete(message.id)
      if (message.ok) entry.resolve(message.result)
      else entry.reject(new Error(`${this.name}: ${message.error}`))
    })
    child.on('exit', (code, signal) => {
      for (const entry of this.waiting.values()) {
        entry.reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) during a call`))
      }
      this.waiting.clear()
    })
  }

  call<K extends keyof A & string>(method: K, params: A[K][0], timeoutMs = 60_000): Promise<A[K][1]> {
    const id = this.nextId++
    return new Promise<A[K][1]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        reject(new Error(`${this.name}.${method} did not answer within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting.set(id, {
        resolve: (value) => {
          clearTimeout(timer)
          resolve(value as A[K][1])
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      })
      if (!this.child.connected) {
        this.waiting.delete(id)
        clearTimeout(timer)
        reject(new Error(`${this.name} is not running`))
        return
      }
      this.child.send({ id, method, params } satisfies Request)
    })
  }
}
