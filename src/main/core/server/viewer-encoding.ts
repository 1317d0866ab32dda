/**
 * The encodings a viewer may ask for in its handshake (`auth.encoding`) and
 * the compressed one's codec. `deflate-raw` compresses a batch's (or a
 * snapshot's) JSON once, on this thread, and the same bytes then go to every
 * viewer of the room that asked for it — where permessage-deflate
 * (`--ws-compression`) deflates every frame once per connection.
 *
 * The compressed bytes travel as base64 text, not as a binary attachment: a
 * text message is one Engine.IO packet, which Socket.IO frames once for the
 * whole room (`wsPreEncodedFrame`), so a compressed batch costs each viewer
 * what a plain one does; a binary attachment is two packets framed per
 * viewer, ~1.6 times the CPU per viewer in a broadcast to 100 (measured
 * 2026-12-02, docs/performance.md). Base64 adds a third to the compressed
 * size, which is a third to a tenth of the JSON's.
 *
 * Synchronous on purpose: a batch must leave before anything sent after it
 * (an acknowledgement, the next batch, a snapshot round), and zlib's
 * thread-pool calls would let those overtake it. A batch of 100 events costs
 * 0.1–0.5 ms, once, however many viewers receive it.
 */
import { deflateRawSync } from 'node:zlib'
import { VIEWER_ENCODINGS, type ViewerEncoding } from '../../../shared/protocol'

/** JSON shorter than this is sent plain to everyone: deflate would save a few dozen bytes and cost the client a decode. */
export const COMPRESS_MIN_BYTES = 512

export type EncodingChoice = { ok: true; encoding: ViewerEncoding } | { ok: false; message: string }

/**
 * Reads `auth.encoding`. Absent: `json`. A known name: that one. An unknown
 * name: `json` (a client may offer a codec a newer server knows; the welcome
 * tells it which it got). Anything else is a client's bug: refused.
 */
export function chooseEncoding(auth: unknown): EncodingChoice {
  const offered = (auth ?? {}) as { encoding?: unknown }
  const value = offered.encoding
  if (value === undefined) return { ok: true, encoding: 'json' }
  if (typeof value !== 'string') {
    return {
      ok: false,
      message: `auth.encoding must be a string (${VIEWER_ENCODINGS.join(' or ')}), got ${typeof value}`,
    }
  }
  const known = VIEWER_ENCODINGS.find((encoding) => encoding === value)
  return { ok: true, encoding: known ?? 'json' }
}

/** Compresses messages for `deflate-raw` viewers, and tells `observe` their sizes before and after (for `/metrics`). */
export class ViewerEncoder {
  constructor(private readonly observe?: (jsonBytes: number, deflatedBytes: number) => void) {}

  /** A message's JSON deflated, in base64, or null when it is too small to be worth it (send it plain). */
  deflated(message: unknown): string | null {
    const json = JSON.stringify(message)
    if (json.length < COMPRESS_MIN_BYTES) return null
    const text = deflateRawSync(json).toString('base64')
    this.observe?.(json.length, text.length)
    return text
  }
}
