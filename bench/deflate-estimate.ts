/**
 * What permessage-deflate would have put on the wire for a recorded message
 * stream, computed the way `ws` does it by default: raw deflate with context
 * takeover, one sync flush per message (minus its 4-byte tail), messages
 * under the 1 KiB threshold sent uncompressed; plus WebSocket frame headers.
 */
import { constants, createDeflateRaw } from 'node:zlib'

const THRESHOLD = 1024

export function frameHeader(payloadBytes: number): number {
  return payloadBytes < 126 ? 2 : payloadBytes < 65_536 ? 4 : 10
}

/**
 * CPU time permessage-deflate would cost a server that sends `messages` to
 * `viewers` connections (one compression context each, as `ws` keeps them).
 */
export async function deflateCpuMs(messages: readonly Buffer[], viewers: number): Promise<number> {
  const before = process.cpuUsage()
  for (let viewer = 0; viewer < viewers; viewer++) await deflateEstimate(messages)
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000
}

/** Bytes of the frames for `messages` (Engine.IO packets, type prefix included) without and with deflate. */
export async function deflateEstimate(messages: readonly Buffer[]): Promise<{ raw: number; deflated: number }> {
  const deflate = createDeflateRaw({ level: constants.Z_DEFAULT_COMPRESSION, windowBits: 15, memLevel: 8 })
  let failure: Error | null = null
  deflate.on('error', (error) => (failure = error))
  const compress = (data: Buffer) =>
    new Promise<number>((resolve, reject) => {
      let size = 0
      const onData = (chunk: Buffer) => (size += chunk.length)
      deflate.on('data', onData)
      deflate.write(data)
      deflate.flush(constants.Z_SYNC_FLUSH, () => {
        deflate.off('data', onData)
        if (failure) reject(failure)
        else resolve(size - 4)
      })
    })
  let raw = 0
  let deflated = 0
  for (const message of messages) {
    raw += frameHeader(message.length) + message.length
    const size = message.length >= THRESHOLD ? await compress(message) : message.length
    deflated += frameHeader(size) + size
  }
  deflate.close()
  return { raw, deflated }
}
