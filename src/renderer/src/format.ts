/** Small, pure formatting helpers shared by the components. */

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 })
const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 })

export function formatCount(value: number): string {
  return integer.format(value)
}

export function formatRate(value: number): string {
  return oneDecimal.format(value)
}

export function formatPercent(ratio: number | null): string {
  return ratio === null ? '—' : `${oneDecimal.format(ratio * 100)} %`
}

/** A duration in ms as a compact human figure: `850 ms`, `12 s`, `4 m 05 s`, `2 h 10 m`. */
export function formatDuration(ms: number): string {
  if (ms < 0) ms = 0
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} m ${String(s % 60).padStart(2, '0')} s`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} m`
  return `${Math.floor(h / 24)} d`
}

/** A duration still growing, shown at the one-second resolution of the page clock. */
export function formatElapsed(ms: number): string {
  return ms < 1000 ? '<1 s' : formatDuration(ms)
}

/** How long ago `at` was, from `now`, at one unit of precision: `3 s ago`, `4 m ago`, `just now`. */
export function formatAge(at: number, now: number): string {
  const s = Math.floor((now - at) / 1000)
  if (s < 1) return 'just now'
  if (s < 60) return `${s} s ago`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} m ago`
  const h = Math.floor(m / 60)
  return h < 48 ? `${h} h ago` : `${Math.floor(h / 24)} d ago`
}

const clock = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
})

export function formatClock(at: number): string {
  return clock.format(at)
}

/** The last part of a long id, enough to tell ids apart in a dense table. */
export function shortId(id: string): string {
  return id.length > 10 ? `…${id.slice(-8)}` : id
}

/** Natural sort: `agent-2` before `agent-10`. */
export const naturalCompare = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' }).compare

const minuteClock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hour12: false })
const dayClock = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
})
const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
})

/** A time axis label fit for a span: seconds within an hour, minutes within a day, the weekday beyond. */
export function formatAxisTime(at: number, spanMs: number): string {
  if (spanMs <= 2 * 3_600_000) return clock.format(at)
  if (spanMs <= 2 * 86_400_000) return minuteClock.format(at)
  return dayClock.format(at)
}

/** A full local date and time, for tables that span days (the audit trail). */
export function formatDateTime(at: number): string {
  return dateTime.format(at)
}
