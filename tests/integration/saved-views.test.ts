/**
 * Saved views over HTTP on a real server: everyone with a dashboard token
 * reads them, operators save (a name again replaces that view) and delete;
 * every field is validated and bounded (a refusal changes nothing), the
 * count is capped, and they survive a restart.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { SavedView } from '../../src/shared/saved-views'
import { SAVED_VIEW_LIMITS } from '../../src/shared/saved-views'
import { createCore, loadConfig, type Core } from '../../src/main/core'
import { getJson, postJson, startCore, TEST_TOKENS, TOKEN_ENV } from '../helpers/core'

const stops: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()))
})

async function views(url: string, token = TEST_TOKENS.viewer): Promise<SavedView[]> {
  const { status, body } = await getJson(`${url}/api/views`, token)
  expect(status).toBe(200)
  return (body as { views: SavedView[] }).views
}

async function remove(url: string, id: string, token = TEST_TOKENS.operator) {
  const response = await fetch(`${url}/api/views/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}` },
  })
  return { status: response.status, body: (await response.json()) as unknown }
}

const failed = { name: 'Failed shell', view: 'tasks', params: { 'tasks.status': 'failed', 'tasks.q': 'shell' } }

describe('saved views', () => {
  it('operators save and delete, everyone reads; saving a name again replaces it', async () => {
    const core = await startCore(['--no-demo'])
    stops.push(() => core.stop())
    expect(await views(core.url)).toEqual([])
    const created = await postJson(`${core.url}/api/views`, failed, TEST_TOKENS.operator)
    expect(created.status).toBe(201)
    const saved = created.body as SavedView
    expect(saved).toMatchObject({
      ...failed,
      id: expect.any(String),
      createdBy: 'operator',
      createdAt: expect.any(Number),
    })
    expect(await views(core.url)).toEqual([saved])

    const again = await postJson(
      `${core.url}/api/views`,
      { ...failed, name: 'FAILED SHELL', params: { 'tasks.status': 'failed' } },
      TEST_TOKENS.operator,
    )
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ id: saved.id, name: 'FAILED SHELL', params: { 'tasks.status': 'failed' } })
    expect(await views(core.url)).toHaveLength(1)

    expect((await postJson(`${core.url}/api/views`, failed, TEST_TOKENS.viewer)).status).toBe(403)
    expect((await remove(core.url, saved.id, TEST_TOKENS.viewer)).status).toBe(403)
    expect((await getJson(`${core.url}/api/views`, TEST_TOKENS.agent)).status).toBe(403)
    expect(await remove(core.url, saved.id)).toMatchObject({ status: 200, body: { id: saved.id } })
    expect(await remove(core.url, saved.id)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } })
    expect((await remove(core.url, 'x'.repeat(65))).status).toBe(400)
    expect(await views(core.url)).toEqual([])
  })

  it('refuses what it cannot keep, with a message naming the field, and changes nothing', async () => {
    const core = await startCore(['--no-demo'])
    stops.push(() => core.stop())
    const cases: [unknown, RegExp][] = [
      [{ view: 'tasks', params: {} }, /name/],
      [{ ...failed, name: '' }, /name/],
      [{ ...failed, name: ' padded' }, /name: must not start or end with spaces/],
      [{ ...failed, name: 'x'.repeat(SAVED_VIEW_LIMITS.nameLength + 1) }, /name/],
      [{ ...failed, name: 'bell\u0007' }, /name: must not contain control characters/],
      [{ ...failed, view: 'overview' }, /view/],
      [
        { ...failed, params: { 'agents.status': 'busy' } },
        /params\.agents\.status: a tasks view's keys start with "tasks\."/,
      ],
      [{ ...failed, params: { status: 'failed' } }, /params/],
      [{ ...failed, params: { 'tasks.q': 'x'.repeat(SAVED_VIEW_LIMITS.valueLength + 1) } }, /params/],
      [{ ...failed, params: { 'tasks.q': 7 } }, /params/],
      [
        {
          ...failed,
          params: Object.fromEntries(
            Array.from({ length: SAVED_VIEW_LIMITS.params + 1 }, (_, i) => [`tasks.k${'abcdefghijklmnopq'[i]}`, 'v']),
          ),
        },
        /at most 16 parameters/,
      ],
      [{ ...failed, owner: 'me' }, /owner/],
      [[], /expected object/],
      ['{"name": ', /JSON|body/i],
    ]
    for (const [body, message] of cases) {
      const answer = await postJson(`${core.url}/api/views`, body, TEST_TOKENS.operator)
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(400)
      expect((answer.body as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'bad_request',
        message: expect.stringMatching(message),
      })
    }
    expect(await views(core.url)).toEqual([])
  })

  it(`keeps at most ${SAVED_VIEW_LIMITS.views}: one more is a 409, replacing one is fine`, async () => {
    const core = await startCore(['--no-demo'])
    stops.push(() => core.stop())
    for (let i = 0; i < SAVED_VIEW_LIMITS.views; i++) {
      const answer = await postJson(`${core.url}/api/views`, { ...failed, name: `view ${i}` }, TEST_TOKENS.operator)
      expect(answer.status).toBe(201)
    }
    const over = await postJson(`${core.url}/api/views`, { ...failed, name: 'one more' }, TEST_TOKENS.operator)
    expect(over).toMatchObject({
      status: 409,
      body: { error: { code: 'conflict', message: expect.stringContaining('delete one first') } },
    })
    expect((await postJson(`${core.url}/api/views`, { ...failed, name: 'view 7' }, TEST_TOKENS.operator)).status).toBe(
      200,
    )
    expect(await views(core.url)).toHaveLength(SAVED_VIEW_LIMITS.views)
  })

  it('survives a restart, with who saved it', async () => {
    const first = await startCore(['--no-demo'])
    const alice = await postJson(
      `${first.url}/api/views`,
      { name: 'Busy', view: 'agents', params: { 'agents.status': 'busy' } },
      TEST_TOKENS.operator,
    )
    expect(alice.status).toBe(201)
    await first.stop()
    const config = loadConfig(
      ['--port', '0', '--data-dir', first.dataDir, '--no-demo', '--local-agents', '0', '--log-level', 'warn'],
      {},
    )
    const second: Core = createCore(config, { console: false, env: TOKEN_ENV })
    await second.start()
    stops.push(() => second.stop())
    expect(await views(second.url)).toEqual([alice.body])
  })
})
