/**
 * Where the cluster store reads from on the page: the REST API at the
 * connection's URL, with its token. Kept out of cluster.ts so that store
 * compiles and runs without a browser (the tests give it a source of their
 * own, over Node's fetch, against a real server).
 */
import type { Result } from '../../../shared/result'
import type { ClusterSource } from './cluster'
import { useConnectionStore } from './connection'
import { getClusterInfo, getNodeHealth } from './operator-api'

const notConnected = { ok: false, error: { code: 'unavailable', message: 'not connected' } } as const

export function restClusterSource(): ClusterSource {
  const connection = useConnectionStore()
  const ask = <T>(read: (rest: { url: string; token: string }) => Promise<Result<T>>) => {
    const rest = connection.restAccess()
    return rest ? read(rest) : Promise.resolve(notConnected)
  }
  return { info: () => ask(getClusterInfo), node: () => ask(getNodeHealth) }
}
