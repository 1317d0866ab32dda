/**
 * HTTP by hand over a real socket, for what fetch cannot do: malformed or
 * half-sent requests, slow bodies, WebSocket upgrades that never answer, and
 * reading exactly what the server wrote (status line and headers included).
 */
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'

export interface RawResponse {
  status: number
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Record<string, string>
  body: string
}

export interface RawConnection {
  socket: Socket
  /** Everything received so far. */
  received(): string
  /** Resolves when the server has sent a complete response head (and its `Content-Length` body). */
  response(timeoutMs?: number): Promise<RawResponse>
  /** Resolves with the milliseconds from `open` to the socket's close. */
  closed: Promise<number>
  write(data: string | Buffer): void
}

export function parseResponse(text: string): RawResponse | null {
  const end = text.indexOf('\r\n\r\n')
  if (end < 0) return null
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const body = text.slice(end + 4)
  const length = headers['content-length'] === undefined ? null : Number(headers['content-length'])
  if (length !== null && Buffer.byteLength(body) < length) return null
  return { status: Number(statusLine!.split(' ')[1]), headers, body: length === null ? body : body.slice(0, length) }
}

/** Opens a connection to `url`'s host and port (TLS for https, trusting `ca`). */
export function rawConnection(url: string, options: { ca?: string } = {}): Promise<RawConnection> {
  const { hostname, port, protocol } = new URL(url)
  const opened = Date.now()
  const socket: Socket =
    protocol === 'https:'
      ? tlsConnect({ host: hostname, port: Number(port), ca: options.ca, servername: 'localhost' })
      : netConnect(Number(port), hostname)
  let text = ''
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => (text += chunk))
  socket.on('error', () => {})
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)))
  const connection: RawConnection = {
    socket,
    received: () => text,
    closed,
    write: (data) => void socket.write(data),
    response(timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const started = Date.now()
        const check = () => {
          const parsed = parseResponse(text)
          if (parsed) return resolve(parsed)
          if (socket.destroyed || Date.now() - started > timeoutMs) {
            return reject(new Error(`no complete response; received: ${JSON.stringify(text.slice(0, 300))}`))
          }
          setTimeout(check, 10)
        }
        check()
      })
    },
  }
  return new Promise((resolve, reject) => {
    socket.once(protocol === 'https:' ? 'secureConnect' : 'connect', () => resolve(connection))
    socket.once('error', reject)
  })
}

/** Sends one request and resolves with the response; the connection is closed afterwards. */
export async function rawRequest(url: string, request: string, options: { ca?: string } = {}): Promise<RawResponse> {
  const connection = await rawConnection(url, options)
  connection.write(request)
  try {
    return await connection.response()
  } finally {
    connection.socket.destroy()
  }
}

/** A WebSocket upgrade request for Engine.IO (a fixed key: the server's answer is all we look at). */
export function upgradeRequest(path: string, extra: Record<string, string> = {}): string {
  const headers = {
    Host: '127.0.0.1',
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    ...extra,
  }
  return `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`
}
