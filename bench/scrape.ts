/** Reads the server's own figures from `GET /metrics` (Prometheus text format). */
export type MetricValues = Map<string, number>

export async function scrapeMetrics(url: string, token: string): Promise<MetricValues> {
  const response = await fetch(`${url}/metrics`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  })
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`)
  const values: MetricValues = new Map()
  for (const line of (await response.text()).split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue
    const space = line.lastIndexOf(' ')
    const value = Number(line.slice(space + 1))
    if (Number.isFinite(value)) values.set(line.slice(0, space), value)
  }
  return values
}

export function metric(values: MetricValues, name: string): number {
  return values.get(name) ?? 0
}
