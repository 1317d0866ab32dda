/**
 * The history routes end to end: a real core, a real SDK agent that runs
 * tasks and logs, then `GET /api/tasks?q=…`, `GET /api/logs` and
 * `GET /api/tasks/export` over HTTP with viewer tokens — what they find,
 * how they page, what they refuse, and what the exported files hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Task, TaskDetail } from '../../src/shared/domain'
import type { LogListAnswer, TaskListAnswer } from '../../src/shared/history-api'
import { closeAgents, sdkAgent } from '../helpers/agents'
import { TEST_TOKENS, getJson, postJson, startCore, until } from '../helpers/core'

type TestCore = Awaited<ReturnType<typeof startCore>>

const NAMES = [
  'heron census',
  'osprey census',
  'kestrel census',
  'owl survey',
  'Weird, "quoted"\nname',
  '=HYPERLINK("x")',
]

describe('the history over HTTP', () => {
  let core: TestCore
  const ids: string[] = []
  let startedAt = 0

  beforeAll(async () => {
    core = await startCore(['--no-demo'])
    startedAt = Date.now()
    sdkAgent(core.url, {
      id: 'field-agent',
      name: 'Field agent',
      capabilities: ['birds'],
      handler: async (task, ctx) => {
        const { bird, fail } = task.payload as { bird: string; fail?: boolean }
        ctx.log('info', `counting ${bird} at the lake`)
        ctx.log('warn', `${bird} flew off twice`)
        if (fail) throw new Error(`lost sight of the ${bird}`)
        return { counted: bird.length }
      },
    })
    for (const [i, name] of NAMES.entries()) {
      const bird =
        name
          .split(' ')[0]!
          .toLowerCase()
          .replace(/[^a-z]/g, '') || 'none'
      const { status, body } = await postJson(
        `${core.url}/api/tasks`,
        { name, kind: i < 3 ? 'census' : 'survey', capabilities: ['birds'], payload: { bird, fail: i === 1 } },
        TEST_TOKENS.operator,
      )
      expect(status).toBe(201)
      ids.push((body as Task).id)
    }
    await until(
      () => ids.every((id) => ['succeeded', 'failed'].includes(core.coordinator.getTask(id)?.status ?? '')),
      10_000,
      'every task done',
    )
  })
  afterAll(async () => {
    await closeAgents()
    await core.stop()
  })

  const get = <T>(path: string, token = TEST_TOKENS.viewer) =>
    getJson(`${core.url}${path}`, token) as Promise<{ status: number; body: T }>

  it('keeps the stable hook: status, agent and limit answer from memory, with the same shape', async () => {
    const { status, body } = await get<TaskListAnswer>('/api/tasks?status=succeeded&agent=field-agent&limit=10')
    expect(status).toBe(200)
    expect(body).toMatchObject({ source: 'memory', next: null, total: 5, retention: { maxTasks: expect.any(Number) } })
    expect(body.tasks.every((t) => t.status === 'succeeded' && t.agentId === 'field-agent')).toBe(true)
  })

  it('searches the stored tasks and their log lines, with a total and cursor paging', async () => {
    const census = await get<TaskListAnswer>('/api/tasks?q=census&limit=2')
    expect(census.body).toMatchObject({ source: 'history', total: 3, next: expect.any(String) })
    const rest = await get<TaskListAnswer>(
      `/api/tasks?q=census&limit=2&cursor=${encodeURIComponent(census.body.next!)}`,
    )
    expect(rest.body).toMatchObject({ total: 3, next: null })
    expect([...census.body.tasks, ...rest.body.tasks].map((t) => t.id)).toEqual([ids[2], ids[1], ids[0]])
    // Words of one log line (every word in one line or in the task's own text), of the error; filters beside.
    expect((await get<TaskListAnswer>('/api/tasks?q=flew%20twice')).body.total).toBe(NAMES.length)
    expect((await get<TaskListAnswer>('/api/tasks?q=sight')).body.tasks.map((t) => t.id)).toEqual([ids[1]])
    const failed = await get<TaskListAnswer>('/api/tasks?status=failed,timed_out&kind=census')
    expect(failed.body).toMatchObject({ source: 'history', total: 1, tasks: [{ id: ids[1], status: 'failed' }] })
    const window = `since=${startedAt}&until=${new Date(Date.now() + 60_000).toISOString()}`
    expect((await get<TaskListAnswer>(`/api/tasks?kind=survey&${window}`)).body.total).toBe(3)
    expect((await get<TaskListAnswer>('/api/tasks?kind=survey&until=2001-01-01')).body.total).toBe(0)
  })

  it('lists stored log lines newest first, filtered by task, agent, level, time and words, page by page', async () => {
    const all = await get<LogListAnswer>('/api/logs?limit=1000')
    expect(all.status).toBe(200)
    expect(all.body.lines).toHaveLength(NAMES.length * 2)
    expect(all.body.lines[0]).toMatchObject({ taskId: ids.at(-1), agentId: 'field-agent', level: 'warn' })
    const heron = await get<LogListAnswer>(`/api/logs?task=${ids[0]}&level=warn`)
    expect(heron.body.lines.map((l) => l.message)).toEqual(['heron flew off twice'])
    const words = await get<LogListAnswer>(`/api/logs?q=osprey%20lake&agent=field-agent&since=${startedAt}`)
    expect(words.body.lines.map((l) => l.message)).toEqual(['counting osprey at the lake'])
    const seen: string[] = []
    let cursor: string | null = null
    for (let pages = 0; pages < 10; pages++) {
      const page: { body: LogListAnswer } = await get<LogListAnswer>(
        `/api/logs?level=info&limit=4${cursor ? `&cursor=${cursor}` : ''}`,
      )
      seen.push(...page.body.lines.map((l) => l.taskId))
      cursor = page.body.next
      if (!cursor) break
    }
    expect(seen).toEqual([...ids].reverse())
  })

  it.each([
    ['/api/tasks?q=', /q: q holds no word/],
    ['/api/tasks?q=%22%20***%20%22', /q holds no word/],
    [`/api/tasks?q=${'a'.repeat(201)}`, /longer than 200/],
    ['/api/tasks?q=a%00b', /NUL/],
    ['/api/tasks?q=a+b+c+d+e+f+g+h+i', /at most 8/],
    ['/api/tasks?status=done', /status/],
    ['/api/tasks?status=queued&status=failed', /status/],
    ['/api/tasks?since=yesterday', /epoch milliseconds or an ISO 8601/],
    ['/api/tasks?since=2026-12-02&until=2026-12-01', /since: must be before until/],
    ['/api/tasks?cursor=12.x', /not one a page handed out/],
    ['/api/tasks?limit=1001', /limit/],
    ['/api/tasks?order=asc', /order/],
    ['/api/logs?level=loud', /level/],
    ['/api/logs?cursor=-1', /not one a page handed out/],
    ['/api/tasks/export?format=xlsx', /format/],
    ['/api/tasks/export?cursor=1', /cursor/],
  ])('refuses %s with a 400 that says why', async (path, why) => {
    const { status, body } = await get<{ error: { code: string; message: string } }>(path)
    expect(status).toBe(400)
    expect(body.error.code).toBe('bad_request')
    expect(body.error.message).toMatch(why)
  })

  it('lets viewers and operators read, and nobody else', async () => {
    for (const path of ['/api/tasks?q=census', '/api/logs', '/api/tasks/export?format=jsonl']) {
      expect((await fetch(`${core.url}${path}`)).status).toBe(401)
      const asAgent = await fetch(`${core.url}${path}`, { headers: { authorization: `Bearer ${TEST_TOKENS.agent}` } })
      expect(asAgent.status).toBe(403)
      const asOperator = await fetch(`${core.url}${path}`, {
        headers: { authorization: `Bearer ${TEST_TOKENS.operator}` },
      })
      expect(asOperator.status).toBe(200)
      await asOperator.arrayBuffer()
    }
  })

  it('exports the filter as CSV: RFC 4180 quoting, formula cells neutralised, agent names', async () => {
    const response = await fetch(`${core.url}/api/tasks/export?format=csv&kind=survey`, {
      headers: { authorization: `Bearer ${TEST_TOKENS.viewer}` },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present')
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="swarm-tasks-.*\.csv"$/)
    const text = await response.text()
    const lines = text.split('\r\n')
    expect(lines[0]).toMatch(/^id,name,kind,status,priority,agentId,agentName,attempts,/)
    expect(lines.at(-1)).toBe('')
    // Newest first: the formula, then the quoted name (its newline inside quotes), then the owl.
    expect(lines[1]).toMatch(
      new RegExp(`^${ids[5]},"'=HYPERLINK\\(""x""\\)",survey,succeeded,0,field-agent,Field agent,1,`),
    )
    expect(text).toContain(`${ids[4]},"Weird, ""quoted""\nname",survey,succeeded`)
    expect(text).toContain(`${ids[3]},owl survey,survey,succeeded`)
    expect(text.match(/\r\n/g)).toHaveLength(4)
  })

  it('exports JSON Lines: each task as the API gives it, one a line', async () => {
    const response = await fetch(`${core.url}/api/tasks/export?format=jsonl&q=census`, {
      headers: { authorization: `Bearer ${TEST_TOKENS.viewer}` },
    })
    expect(response.headers.get('content-type')).toBe('application/jsonl; charset=utf-8')
    const tasks = (await response.text())
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Task)
    expect(tasks.map((t) => t.id)).toEqual([ids[2], ids[1], ids[0]])
    const {
      transitions: _t,
      logs: _l,
      logsDropped: _d,
      ...stored
    } = (await get<TaskDetail>(`/api/tasks/${ids[1]}`)).body
    expect(tasks[1]).toEqual(stored)
  })
})
