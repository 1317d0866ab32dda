/**
 * A viewer that stops reading, at the Engine.IO level: it opens a
 * long-polling session, joins `/dashboard` with a token, takes the first
 * answer, and never polls again. Everything the server sends it then waits
 * in the server's memory, as for a WebSocket viewer whose TCP buffers are
 * full — without filling megabytes of kernel buffers first.
 */

export interface SilentViewer {
  sid: string
  /** Asks once more: resolves with what the server had waiting (`ok: false` once it dropped the session). */
  poll(): Promise<{ ok: boolean; body: string }>
}

const SEPARATOR = '\u001e'

async function engineGet(base: string, sid?: string): Promise<{ ok: boolean; body: string }> {
  const response = await fetch(`${base}/socket.io/?EIO=4&transport=polling${sid ? `&sid=${sid}` : ''}`, {
    signal: AbortSignal.timeout(10_000),
  })
  return { ok: response.ok, body: await response.text() }
}

export async function silentViewer(
  url: string,
  token: string,
  auth: Record<string, unknown> = {},
): Promise<SilentViewer> {
  const open = await engineGet(url)
  if (!open.ok || !open.body.startsWith('0')) throw new Error(`no Engine.IO session: ${open.body.slice(0, 200)}`)
  const { sid } = JSON.parse(open.body.slice(1)) as { sid: string }
  const connect = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8' },
    body: `40/dashboard,${JSON.stringify({ token, ...auth })}`,
  })
  if (!connect.ok) throw new Error(`namespace connect refused: ${connect.status}`)
  // The CONNECT answer (and maybe the welcome); after this the viewer reads nothing more.
  const answer = await engineGet(url, sid)
  const packets = answer.body.split(SEPARATOR)
  if (!packets.some((packet) => packet.startsWith('40/dashboard,'))) {
    throw new Error(`not connected to /dashboard: ${answer.body.slice(0, 200)}`)
  }
  return { sid, poll: () => engineGet(url, sid) }
}
