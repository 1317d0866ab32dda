/**
 * Where the core is and which token to present.
 *
 * Inside the Electron window the preload bridge knows both. In a browser the
 * page is served by the core itself, so the URL is our own origin and the
 * token travels in the URL fragment (`#token=…`), which browsers never send
 * to the server in requests or referrers.
 */
export type EndpointSource = 'desktop' | 'browser'

export interface Endpoint {
  url: string
  token: string | null
  source: EndpointSource
}

export async function discoverEndpoint(): Promise<Endpoint> {
  const bridge = window.swarmMonitor
  if (bridge) {
    const { url, token } = await bridge.getConnection()
    return { url: stripTrailingSlash(url), token: token || null, source: 'desktop' }
  }
  const url = import.meta.env.VITE_SWARM_MONITOR_URL || window.location.origin
  return { url: stripTrailingSlash(url), token: readHashToken(), source: 'browser' }
}

export function readHashToken(): string | null {
  const token = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('token')?.trim()
  return token ? token : null
}

/** Puts the token in the fragment, keeping any other fragment parameters. */
export function writeHashToken(token: string): void {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''))
  params.set('token', token)
  window.location.hash = params.toString()
}

function stripTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '')
}
