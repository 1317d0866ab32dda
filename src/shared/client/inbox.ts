/**
 * What the server sends a viewer, applied strictly in the order it arrived,
 * although a compressed message takes a while to decode
 * (`DecompressionStream` is asynchronous): a later plain message never
 * overtakes an earlier compressed batch. While nothing waits, a plain
 * message is applied at once, in the socket's own callback.
 *
 * A message that cannot be decoded breaks the sequence: what follows it is
 * dropped, not applied with a gap, until `resume()` (the client reconnects,
 * and the server replays from the last seq applied).
 */
export type Inflate = (data: Uint8Array) => Promise<string> | string

export class Inbox {
  private tail: Promise<void> = Promise.resolve()
  private waiting = 0
  private broken = false

  /**
   * `inflate`: raw DEFLATE, or null when this client cannot (it then offers no compression).
   * `failed`: a message could not be decoded (the sequence is broken until `resume`).
   */
  constructor(
    readonly inflate: Inflate | null,
    private readonly failed: (error: unknown) => void,
  ) {}

  /** Whether messages wait to be decoded or applied. */
  get busy(): boolean {
    return this.waiting > 0
  }

  /** A plain message: applied now, or after those still waiting. */
  plain(apply: () => void): void {
    if (this.waiting === 0) {
      if (!this.broken) apply()
      return
    }
    this.enqueue(async () => apply())
  }

  /** A message that must be decoded first; `apply` gets what `decode` answered, in turn. */
  decoded<T>(decode: () => Promise<T>, apply: (value: T) => void): void {
    // Decoding starts now, in parallel with the ones before; only applying waits its turn.
    const value = decode()
    value.catch(() => {})
    this.enqueue(async () => apply(await value))
  }

  /** A `*:deflate-raw` message (base64 of raw DEFLATE of JSON): inflated, parsed, then applied in turn. */
  compressed<T>(base64: string, apply: (value: T) => void): void {
    this.decoded(async () => {
      if (!this.inflate) throw new Error('compressed message received, but this client cannot inflate')
      return JSON.parse(await this.inflate(fromBase64(base64))) as T
    }, apply)
  }

  /** Resolves once every message received so far is applied (or dropped). */
  drained(): Promise<void> {
    return this.tail
  }

  /** A new connection: apply messages again. */
  resume(): void {
    this.broken = false
  }

  private enqueue(step: () => Promise<void>): void {
    this.waiting++
    this.tail = this.tail.then(async () => {
      try {
        if (!this.broken) await step()
      } catch (error) {
        this.broken = true
        this.failed(error)
      } finally {
        this.waiting--
      }
    })
  }
}

/** Raw DEFLATE (RFC 1951) by the platform's `DecompressionStream`, or null where it lacks one or the format. */
export function nativeInflate(): Inflate | null {
  const Stream = (globalThis as { DecompressionStream?: typeof DecompressionStream }).DecompressionStream
  if (typeof Stream !== 'function') return null
  try {
    new Stream('deflate-raw')
  } catch {
    return null
  }
  return async (data) => {
    const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new Stream('deflate-raw'))
    return new Response(stream).text()
  }
}

/** The bytes of a base64 text (`atob`: in browsers and Node alike). */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}
