/**
 * Three nodes on a real Redis and a real PostgreSQL, in this process: one
 * swarm. Viewers on every node converge to the same state (field by field,
 * against each node's `/api/snapshot`) while tasks are submitted through
 * every node — over HTTP and over Socket.IO — and run by agents on the
 * leader and on a follower (which relays its agent to the leader). When the leader stops,
 * a follower takes over from the history, every remaining viewer converges
 * on its swarm, and the agent that was running a task gets it back from the
 * new leader as the same attempt. (`kill -9` of node processes: cluster-cli.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ClusterInfo } from '../../src/shared/cluster'
import type { Snapshot, Welcome } from '../../src/shared/protocol'
import type { Task, TaskSummary } from '../../src/shared/domain'
import { applyEvents, applySnapshot, createSwarmState, type SwarmState } from '../../src/shared/reducer'
import { closeAgents, manualAgent, rawAgent, sdkAgent } from '../helpers/agents'
import {
  TEST_TOKENS,
  dashboardClient,
  eventually,
  getJson,
  postJson,
  startCore,
  until,
  type DashboardSocket,
} from '../helpers/core'
import { postgresForSuite } from '../helpers/postgres-suite'
import { redisForSuite } from '../helpers/redis-suite'

const pg = postgresForSuite()
const redis = redisForSuite()

type Node = Awaited<ReturnType<typeof startCore>>
const nodes: Node[] = []
const sockets: DashboardSocket[] = []
afterEach(async () => {
  sockets.splice(0).forEach((socket) => socket.close())
  await closeAgents()
  await Promise.all(nodes.splice(0).map((node) => node.stop()))
})

async function cluster(count: number): Promise<Node[]> {
  const { url } = await pg().createDatabase()
  for (let i = 0; i < count; i++) {
    // One after the other: the first takes the lead before the others join.
    nodes.push(await startCore(['--no-demo', '--database', url, '--redis', redis().url, '--node-id', `n${i}`]))
    if (i === 0) await until(() => nodes[0]!.cluster.role() === 'leader', 5_000, 'a first leader')
  }
  // Every node knows every other, the leader's URL included (they report once a second).
  const known = async (node: Node) => (await info(node)).nodes.filter((seen) => !seen.gone && seen.url).length === count
  for (const node of nodes) await eventually(() => known(node), Boolean, 'the nodes to know each other')
  return [...nodes]
}

const info = async (node: Node) => (await getJson(`${node.url}/api/cluster`, TEST_TOKENS.viewer)).body as ClusterInfo
const snapshotOf = async (node: Node) =>
  (await getJson(`${node.url}/api/snapshot`, TEST_TOKENS.viewer)).body as Snapshot

/** A viewer holding the swarm with the shared reducer, as the dashboard does. */
function viewer(
  node: Node,
  token = TEST_TOKENS.viewer,
  state = createSwarmState(),
  auth: Record<string, unknown> = {},
): { state: SwarmState; socket: DashboardSocket; snapshots: () => number; welcome: () => Welcome | null } {
  let snapshots = 0
  let welcome: Welcome | null = null
  const socket = dashboardClient(node.url, token, { auth: { token, ...auth } })
  socket.on('welcome', (hello) => (welcome = hello))
  socket.on('snapshot', (snapshot) => {
    snapshots++
    applySnapshot(state, snapshot)
  })
  socket.on('events', (events) => void applyEvents(state, events))
  sockets.push(socket)
  return { state, socket, snapshots: () => snapshots, welcome: () => welcome }
}

/** What must agree across nodes: every task's id, status and attempts, in id order. */
const tasksOf = (tasks: Iterable<TaskSummary>) =>
  [...tasks].map(({ id, status, attempts }) => ({ id, status, attempts })).sort((a, b) => a.id.localeCompare(b.id))

async function submit(node: Node, name: string): Promise<Task> {
  const answer = await postJson(`${node.url}/api/tasks`, { name, kind: 'work' }, TEST_TOKENS.operator)
  expect(answer.status, JSON.stringify(answer.body)).toBe(201)
  return answer.body as Task
}

describe('a cluster of three nodes', () => {
  it('is one swarm: submitted anywhere, run by agents on any node, seen alike by the viewers of every node', async () => {
    const [leader, ...followers] = await cluster(3)
    expect(leader!.cluster.role()).toBe('leader')
    const viewers = nodes.map((node) => viewer(node))
    // Agents on the leader and on a follower, which relays its agent to the leader.
    const onLeader = await manualAgent(leader!.url, 'w1', 2)
    const onFollower = await manualAgent(followers[0]!.url, 'w2', 2)
    expect(leader!.coordinator.getAgent('w2')).toMatchObject({ kind: 'remote', status: 'idle' })
    await eventually(
      async () => (await info(leader!)).nodes.find((n) => n.id === 'n1')?.agents,
      (agents) => agents === 1,
      'n1 counting its agent',
      5_000,
    )
    // Through every node over HTTP (a follower asks the leader), and over a follower's Socket.IO.
    const submitted = [
      await submit(leader!, 'on the leader'),
      ...(await Promise.all(followers.map((f) => submit(f, 'via')))),
    ]
    const operator = viewer(followers[1]!, TEST_TOKENS.operator)
    await until(() => operator.state.hasSnapshot, 5_000, 'the operator viewer’s snapshot')
    const ack = await operator.socket.emitWithAck('task:submit', { name: 'over a follower socket', kind: 'work' })
    expect(ack.ok, JSON.stringify(ack)).toBe(true)
    if (ack.ok) submitted.push(ack.data)
    expect(new Set(submitted.map((task) => task.id)).size).toBe(4)

    // Two each: both agents run work, whichever node they are on; their reports reach the leader either way.
    await until(() => onLeader.assigned.length + onFollower.assigned.length === 4, 5_000, 'all four given out')
    expect([onLeader.assigned.length, onFollower.assigned.length]).toEqual([2, 2])
    for (const id of onLeader.assigned) expect((await onLeader.succeed(id)).ok).toBe(true)
    for (const id of onFollower.assigned) expect((await onFollower.succeed(id)).ok).toBe(true)

    // Every viewer ends with the four tasks succeeded, equal to its node's snapshot, and the nodes agree.
    const done = (state: SwarmState) =>
      submitted.every((task) => state.tasks.get(task.id)?.status === 'succeeded') && state.seq > 0
    await until(() => [...viewers, operator].every(({ state }) => done(state)), 10_000, 'every viewer to converge')
    const snapshots = await Promise.all(nodes.map(snapshotOf))
    for (const [i, { state }] of viewers.entries()) {
      await eventually(
        async () => (await snapshotOf(nodes[i]!)).seq,
        (seq) => seq === state.seq,
        'a quiet stream',
        5_000,
      )
      const snapshot = await snapshotOf(nodes[i]!)
      expect(tasksOf(state.tasks.values())).toEqual(tasksOf(snapshot.tasks))
      for (const id of ['w1', 'w2']) {
        expect(state.agents.get(id)?.counters).toEqual(snapshot.agents.find((a) => a.id === id)?.counters)
      }
      expect(state.duplicates).toBe(0)
    }
    expect(snapshots.map((snapshot) => tasksOf(snapshot.tasks))).toEqual(
      snapshots.map(() => tasksOf(snapshots[0]!.tasks)),
    )
    // One numbering: every node reaches the leader's seq (the leader's samples go on once a second, so between
    // two of them).
    await eventually(
      async () => new Set((await Promise.all(nodes.map(snapshotOf))).map((snapshot) => snapshot.seq)).size,
      (distinct) => distinct === 1,
      'every node at one seq',
      5_000,
    )
  }, 40_000)

  it('goes on when the leader stops: a follower takes over from the history, viewers converge on its swarm', async () => {
    const [leader, ...followers] = await cluster(3)
    const agent = await manualAgent(leader!.url, 'w1', 10)
    const finished = await submit(followers[0]!, 'finished before')
    const waiting = await submit(followers[1]!, 'queued at the failover')
    await until(() => agent.assigned.includes(finished.id), 5_000)
    expect((await agent.succeed(finished.id)).ok).toBe(true)
    const watchers = followers.map((node) => viewer(node))
    const orphan = viewer(leader!)
    const everyone = [...watchers, orphan]
    await until(() => everyone.every(({ state }) => state.tasks.get(finished.id)?.status === 'succeeded'), 5_000)
    await until(() => everyone.every(({ snapshots }) => snapshots() === 1), 5_000)

    const stoppedAt = Date.now()
    await leader!.stop()
    nodes.splice(nodes.indexOf(leader!), 1)
    await until(() => followers.some((node) => node.cluster.role() === 'leader'), 5_000, 'a new leader')
    const elected = followers.find((node) => node.cluster.role() === 'leader')!
    const other = followers.find((node) => node !== elected)!
    const took = Date.now() - stoppedAt
    expect(took).toBeLessThan(5_000)
    await eventually(
      async () => (await info(other)).leader,
      (leader) => leader === elected.cluster.nodeId,
      'the other to see it',
      5_000,
    )

    // The new leader's swarm comes from the history: the finished task as it ended, the other back in the queue.
    const expected = (state: SwarmState) =>
      state.tasks.get(finished.id)?.status === 'succeeded' && state.tasks.get(waiting.id)?.status === 'queued'
    await until(() => watchers.every(({ state }) => expected(state)), 10_000, 'viewers on the new leader’s swarm')
    // Told as events: no viewer of a surviving node was sent a snapshot, and the old leader's agent is gone.
    expect(watchers.map(({ snapshots }) => snapshots())).toEqual([1, 1])
    expect(watchers.every(({ state }) => !state.agents.has('w1'))).toBe(true)
    // A viewer of the dead leader comes back on another node where it stopped: a replay, not a reload.
    const resumed = viewer(other, TEST_TOKENS.viewer, orphan.state, {
      sinceSeq: orphan.state.seq,
      instance: orphan.welcome()!.instance,
    })
    await until(() => resumed.welcome() !== null, 5_000, 'the welcome on the other node')
    expect(resumed.welcome()!.resumed).toBe(true)
    await until(() => expected(resumed.state), 5_000, 'the resumed viewer on the new leader’s swarm')
    expect(resumed.snapshots()).toBe(0)
    expect(resumed.state.duplicates).toBe(0)
    for (const [i, { state }] of watchers.entries()) {
      await eventually(
        async () => (await snapshotOf(followers[i]!)).seq,
        (seq) => seq === state.seq,
        'a quiet stream',
        5_000,
      )
      expect(tasksOf(state.tasks.values())).toEqual(tasksOf((await snapshotOf(followers[i]!)).tasks))
    }
    // The agent that had it comes back, to the new leader, naming it: it is its again, the same attempt, once.
    expect(waiting.status).toBe('queued')
    expect(agent.assigned).toContain(waiting.id)
    const back = rawAgent(elected.url)
    await new Promise((resolve) => back.once('connect', () => resolve(null)))
    const registration = { id: 'w1', name: 'w1', capabilities: [], concurrency: 10, running: [waiting.id] }
    expect(await back.emitWithAck('agent:register', registration)).toMatchObject({
      ok: true,
      data: { resumed: [waiting.id] },
    })
    expect(await back.emitWithAck('task:complete', { taskId: waiting.id, result: 'done' })).toEqual({
      ok: true,
      data: null,
    })
    await until(() => watchers.every(({ state }) => state.tasks.get(waiting.id)?.status === 'succeeded'), 5_000)
    expect(elected.coordinator.getTask(waiting.id)).toMatchObject({ status: 'succeeded', attempts: 1, agentId: 'w1' })
  }, 40_000)

  it('keeps a task running on a follower’s agent through the leader’s end: it completes there, counted once', async () => {
    const [leader, ...followers] = await cluster(3)
    const release = new Map<string, () => void>()
    const calls: string[] = []
    sdkAgent(followers[0]!.url, {
      id: 'survivor',
      handler: (task) => {
        calls.push(task.id)
        return new Promise((resolve) => release.set(task.id, () => resolve('done')))
      },
    })
    const task = await submit(followers[1]!, 'spans the failover')
    await until(() => release.has(task.id), 5_000, 'the task on the follower’s agent')
    await until(() => leader!.coordinator.getTask(task.id)?.status === 'running', 5_000)

    await leader!.stop()
    nodes.splice(nodes.indexOf(leader!), 1)
    await until(() => followers.some((node) => node.cluster.role() === 'leader'), 5_000, 'a new leader')
    const elected = followers.find((node) => node.cluster.role() === 'leader')!
    // The agent comes back (through its follower, or to it as the new leader) and is given its task back.
    await until(() => elected.coordinator.getTask(task.id)?.status === 'running', 10_000, 'the task given back')
    release.get(task.id)!()
    await until(() => elected.coordinator.getTask(task.id)?.status === 'succeeded', 5_000, 'its end')
    expect(elected.coordinator.getTask(task.id)).toMatchObject({ attempts: 1, agentId: 'survivor' })
    expect(calls).toEqual([task.id])
  }, 40_000)
})
