/**
 * What each kind of event costs on the wire, read off a recorded push
 * stream: every `events` message is split into its events, and each event's
 * bytes are its JSON text in the frame (plus its comma), so the figures add
 * up to the messages' payloads less the Socket.IO framing around them.
 *
 * Compressed figures are a hook: `compress` says what one message (one batch)
 * would take compressed, and each event is given its share of that in
 * proportion to its raw bytes. The default compresses each batch alone with
 * deflate-raw — what "compress once per batch" would send with that codec; an
 * encoding that the server really negotiates should pass its own measure.
 */
import { constants, deflateRawSync } from 'node:zlib'
import type { DomainEvent, DomainEventType } from '../src/shared/events'
import type { EventSizes } from './api'

export type Compress = (message: Buffer) => number

export const deflateEachBatch: Compress = (message) =>
  deflateRawSync(message, { level: constants.Z_DEFAULT_COMPRESSION }).length

/** The events of one recorded Engine.IO message, or null when it is not an `events` message. */
function eventsOf(message: Buffer): DomainEvent[] | null {
  const text = message.toString('utf8')
  const start = text.indexOf('[')
  if (start < 0) return null
  try {
    const packet = JSON.parse(text.slice(start)) as unknown
    if (!Array.isArray(packet) || packet[0] !== 'events' || !Array.isArray(packet[1])) return null
    return packet[1] as DomainEvent[]
  } catch {
    return null
  }
}

export function eventSizes(messages: readonly Buffer[], compress: Compress | null = deflateEachBatch): EventSizes {
  const sizes: EventSizes = {}
  for (const message of messages) {
    const events = eventsOf(message)
    if (!events || events.length === 0) continue
    const texts = events.map((event) => JSON.stringify(event).length + 1)
    const raw = texts.reduce((sum, bytes) => sum + bytes, 0)
    const compressed = compress ? compress(message) : null
    events.forEach((event, i) => {
      const entry = (sizes[event.type as DomainEventType] ??= { count: 0, bytes: 0, maxBytes: 0, compressedBytes: 0 })
      entry.count++
      entry.bytes += texts[i]!
      entry.maxBytes = Math.max(entry.maxBytes, texts[i]!)
      if (compressed === null) entry.compressedBytes = null
      else if (entry.compressedBytes !== null) entry.compressedBytes += (compressed * texts[i]!) / raw
    })
  }
  for (const entry of Object.values(sizes)) {
    if (entry.compressedBytes !== null) entry.compressedBytes = Math.round(entry.compressedBytes)
  }
  return sizes
}

/** Events that state a task's status (`task:status`, and `task:added`, which may carry a whole short life). */
export function statusChanges(sizes: EventSizes): number {
  return (sizes['task:status']?.count ?? 0) + (sizes['task:added']?.count ?? 0)
}
