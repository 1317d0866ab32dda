/**
 * This node's place in the cluster, for `GET /metrics`: its role, the term
 * and how far it is behind the leader's stream. Gauges read at scrape time
 * (prom-client's `collect`), so nothing updates them in between and a
 * scrape always sees the role the node holds now. Labelled with the node's
 * id, so a Prometheus scraping every node tells them apart without
 * relabelling. A single node reports itself the leader of term 0.
 */
import { Gauge, type Registry } from 'prom-client'
import type { Membership } from './membership'

export function registerClusterMetrics(
  registry: Registry,
  cluster: Pick<Membership, 'nodeId' | 'role' | 'term' | 'info'>,
): void {
  const registers = [registry]
  const node = cluster.nodeId
  new Gauge({
    name: 'swarm_cluster_role',
    help: 'This node leads the cluster (1) or follows (0); a single server is its own leader',
    labelNames: ['node'],
    registers,
    collect() {
      this.set({ node }, cluster.role() === 'leader' ? 1 : 0)
    },
  })
  new Gauge({
    name: 'swarm_cluster_term',
    help: "The leader's fencing term as this node knows it: raised by one at every change of leader (0 on a single server)",
    labelNames: ['node'],
    registers,
    collect() {
      this.set({ node }, cluster.term())
    },
  })
  new Gauge({
    name: 'swarm_cluster_stream_lag_events',
    help: 'Events the leader has written that this node has not applied yet, as it last reported (0 for the leader)',
    labelNames: ['node'],
    registers,
    // info() answers from memory (the last Redis read), so a scrape costs no Redis round trip.
    async collect() {
      const info = await cluster.info()
      this.set({ node }, info.nodes.find((entry) => entry.id === node)?.lag ?? 0)
    },
  })
}
