/**
 * Fuzzing every HTTP route with no token, a wrong one and each role: random
 * paths, queries, bodies (malformed JSON, prototype-pollution keys, deep
 * nesting) and content types — the operator's routes (audit, saved views,
 * metric history, schedules) included. Every answer is a 2xx or a clear 4xx in the JSON
 * error shape, never a 500; afterwards the swarm is what it was.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../src/shared/result'
import { TEST_TOKENS } from '../helpers/core'
import { afterFuzzing, ACK_TIMEOUT_MS, RUNS, TIMEOUT_MS, useFuzzTarget } from './fuzz/target'
import { badString, broken, junk, notANumber } from './fuzz/values'

const target = useFuzzTarget()

describe('fuzzing HTTP', () => {
  const tokens = fc.constantFrom<string | undefined>(
    undefined,
    'wrong-wrong-wrong-wrong',
    TEST_TOKENS.agent,
    TEST_TOKENS.viewer,
    TEST_TOKENS.operator,
  )
  const pathPart = fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }).map(encodeURIComponent),
    fc.constantFrom('%', '%00', '..%2f..%2fetc%2fpasswd', '__proto__', 'constructor', 'x'.repeat(300)),
  )
  const query = fc
    .dictionary(
      fc.oneof(
        fc.constantFrom('status', 'agent', 'limit', 'q', 'kind', 'since', 'until', 'cursor', '__proto__'),
        fc.string({ maxLength: 10 }),
      ),
      fc.oneof(fc.string({ maxLength: 50 }), fc.constantFrom('-1', '1e9', 'NaN', 'queued', '1.5', '[]')),
      { maxKeys: 4 },
    )
    .map((entries) => new URLSearchParams(entries).toString())
  const operatorQuery = fc
    .dictionary(
      fc.oneof(
        fc.constantFrom('actor', 'role', 'action', 'outcome', 'target', 'since', 'until', 'limit', 'cursor'),
        fc.constantFrom('range', 'from', 'to', '__proto__'),
        fc.string({ maxLength: 10 }),
      ),
      fc.oneof(
        fc.string({ maxLength: 50 }),
        fc.constantFrom('-1', '1e30', 'NaN', '0', '500', '501', '5m', '7d', 'auth', 'operator', 'refused', '99999999'),
        fc.constant('x'.repeat(300)),
      ),
      { maxKeys: 4 },
    )
    .map((entries) => new URLSearchParams(entries).toString())
  const viewBody = broken(
    { name: 'fuzz view', view: 'tasks', params: { 'tasks.q': 'x' } },
    {
      name: fc.oneof(badString, fc.constantFrom(' lead', 'bell\u0007', 'x'.repeat(65))),
      view: fc.oneof(badString, fc.constantFrom('overview', 'audit', 'TASKS')),
      params: fc.oneof(
        junk,
        fc.constant({ 'agents.status': 'busy' }),
        fc.constant({ 'tasks.q': 'x'.repeat(501) }),
        fc.constant(
          Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`tasks.k${'abcdefghijklmnopq'[i]}`, 'v'])),
        ),
        fc.dictionary(fc.string({ maxLength: 40 }), junk, { maxKeys: 3 }),
      ),
    },
    ['name', 'view'],
  ).map((value) => JSON.stringify(value))
  // Crons meant to break croner or to fire too often: each must get a 400, never a 500 or a stored schedule.
  const hostileCron = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 130 }),
    fc.constantFrom(
      '@',
      'L L L L L',
      '0 0 31 2 *',
      '*/0 * * * *',
      '60 * * * *',
      '* * * * * *',
      '0 0 1 1 * 2020',
      '@every',
    ),
    fc.constantFrom('', ' ', 'x'.repeat(121), '\u0000 * * * *', '0 0 ? * 9#9', '0 0 LW-1 * *'),
  )
  const scheduleBody = broken(
    { name: 'fuzz schedule', cron: '0 * * * *', task: { name: 'fuzz', kind: 'report' } },
    {
      name: fc.oneof(badString, fc.constantFrom(' lead', 'bell\u0007', 'x'.repeat(201))),
      cron: fc.oneof(badString, hostileCron),
      timezone: fc.oneof(badString, fc.constantFrom('Mars/Olympus', 'UTC+99', '../../etc/passwd', 'x'.repeat(65))),
      overlap: fc.oneof(badString, fc.constantFrom('SKIP', 'never')),
      task: fc.oneof(junk, fc.constant({ name: 't', kind: 'report', dependsOn: ['x'] })),
      workflow: junk,
    },
    ['name', 'cron'],
  ).map((value) => JSON.stringify(value))
  const previewBody = broken({ cron: '0 * * * *' }, { cron: fc.oneof(badString, hostileCron), timezone: badString }, [
    'cron',
  ]).map((value) => JSON.stringify(value))
  const body = fc.oneof(
    broken(
      { name: 'fuzz', kind: 'report' },
      { name: badString, kind: badString, priority: fc.oneof(notANumber, fc.double({ noInteger: true })) },
      ['name', 'kind'],
    ).map((value) => JSON.stringify(value)),
    fc.constantFrom(
      '{"name":',
      '{"__proto__": {"polluted": "yes"}, "name": "p", "kind": "report"}',
      '{"constructor": {"prototype": {"polluted": "yes"}}, "name": "p", "kind": "report"}',
      '[]',
      'null',
      '"string"',
      '',
      '{'.repeat(5000),
      `${'['.repeat(3000)}${']'.repeat(3000)}`,
    ),
    fc.string({ unit: 'binary', maxLength: 500 }),
  )
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    undefined,
  )
  // Search strings meant to break a full-text engine or the SQL around it: FTS5 and tsquery syntax, quotes, SQL,
  // NUL, lone surrogates, huge ones. Each must get a 400 or results, never a 500, on the routes that take `q`.
  const hostileQ = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.constantFrom(
      'NEAR(a b, 2)',
      '"unclosed',
      'a AND OR NOT b',
      'col:val {a b}: c',
      '^start + -minus',
      '*',
      'ab*',
      '"a b"* "c',
      "'; DROP TABLE tasks; --",
      "a & b | !c <-> d:* ('e')",
      '(((',
      'a\u0000b',
      '\ud800 lone',
      'x'.repeat(10_000),
      'ä'.repeat(199),
      ' '.repeat(150),
    ),
    fc
      .array(
        fc.constantFrom(
          'a',
          'zz',
          '"',
          '*',
          '(',
          ')',
          ':',
          '^',
          '-',
          '+',
          'NEAR',
          'OR',
          'AND',
          'NOT',
          "'",
          '&',
          '|',
          '!',
          '<->',
          ' ',
          '\u0000',
        ),
        { maxLength: 40 },
      )
      .map((parts) => parts.join('')),
  )
  const historyQuery = fc
    .record({
      q: hostileQ,
      more: fc.dictionary(
        fc.constantFrom('status', 'kind', 'agent', 'since', 'until', 'cursor', 'limit', 'task', 'level', 'format'),
        fc.oneof(
          fc.string({ maxLength: 30 }),
          fc.constantFrom('queued,failed', '0', '2026-12-01T00:00:00Z', '1.2', 'csv', 'jsonl', 'error,warn', '-1'),
        ),
        { maxKeys: 3 },
      ),
    })
    .map(({ q, more }) => new URLSearchParams({ ...more, q }).toString())
  const request = fc.oneof(
    fc.record({
      method: fc.constant('GET'),
      path: fc
        .tuple(fc.constantFrom('/api/tasks', '/api/logs', '/api/tasks/export'), historyQuery)
        .map(([route, q]) => `${route}?${q}`),
    }),
    fc.record({
      method: fc.constant('GET'),
      path: fc.constantFrom('/api/snapshot', '/api/agents', '/metrics', '/healthz'),
    }),
    fc.record({ method: fc.constant('GET'), path: query.map((q) => `/api/tasks?${q}`) }),
    fc.record({ method: fc.constant('GET'), path: pathPart.map((id) => `/api/tasks/${id}`) }),
    fc.record({ method: fc.constant('POST'), path: fc.constant('/api/tasks'), body, contentType }),
    fc.record({
      method: fc.constant('POST'),
      path: pathPart.map((id) => `/api/tasks/${id}/cancel`),
      body,
      contentType,
    }),
    fc.record({
      method: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'OPTIONS', 'GET', 'POST'),
      path: pathPart.map((p) => `/${p}`),
    }),
    fc.record({ method: fc.constant('GET'), path: operatorQuery.map((q) => `/api/audit?${q}`) }),
    fc.record({ method: fc.constant('GET'), path: operatorQuery.map((q) => `/api/metrics?${q}`) }),
    fc.record({ method: fc.constant('GET'), path: fc.constant('/api/views') }),
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/api/views'),
      body: fc.oneof(viewBody, body),
      contentType,
    }),
    fc.record({ method: fc.constantFrom('DELETE', 'PUT', 'PATCH'), path: pathPart.map((id) => `/api/views/${id}`) }),
    fc.record({ method: fc.constant('GET'), path: fc.constant('/api/kinds') }),
    fc.record({ method: fc.constant('PATCH'), path: pathPart.map((kind) => `/api/kinds/${kind}`), body, contentType }),
    fc.record({ method: fc.constant('GET'), path: fc.constant('/api/schedules') }),
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/api/schedules'),
      body: fc.oneof(scheduleBody, body),
      contentType,
    }),
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/api/schedules/preview'),
      body: fc.oneof(previewBody, body),
      contentType,
    }),
    fc.record({
      method: fc.constant('POST'),
      path: fc
        .tuple(pathPart, fc.constantFrom('pause', 'resume', 'run'))
        .map(([id, action]) => `/api/schedules/${id}/${action}`),
      body,
      contentType,
    }),
    fc.record({
      method: fc.constantFrom('DELETE', 'GET'),
      path: pathPart.map((id) => `/api/schedules/${id}`),
    }),
  )

  it(
    'answers every request with a 2xx or a clear 4xx, never a 500, and changes nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          request,
          tokens,
          async (req: { method: string; path: string; body?: string; contentType?: string }, token) => {
            const response = await fetch(`${target.core.url}${req.path}`, {
              method: req.method,
              headers: {
                ...(token ? { authorization: `Bearer ${token}` } : {}),
                ...(req.contentType ? { 'content-type': req.contentType } : {}),
              },
              ...(req.body !== undefined ? { body: req.body } : {}),
              signal: AbortSignal.timeout(ACK_TIMEOUT_MS),
            })
            const text = await response.text()
            const what = `${req.method} ${req.path.slice(0, 120)} (${token?.slice(0, 9)}) -> ${response.status} ${text.slice(0, 200)}`
            expect(response.status, what).toBeLessThan(500)
            if (req.method === 'POST' && token === TEST_TOKENS.operator)
              expect(response.status, what).toBeGreaterThanOrEqual(400)
            if (response.status >= 400 && response.headers.get('content-type')?.includes('json')) {
              const error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error
              expect(ERROR_CODES, what).toContain(error?.code)
              expect(error?.message, what).toEqual(expect.any(String))
            }
          },
        ),
        { numRuns: RUNS * 2 },
      )
    },
    TIMEOUT_MS,
  )

  it('leaves no schedule behind: every schedule body it sent was invalid', async () => {
    const response = await fetch(`${target.core.url}/api/schedules`, {
      headers: { authorization: `Bearer ${TEST_TOKENS.viewer}` },
    })
    expect(await response.json()).toEqual({ schedules: [] })
  })

  it('leaves no saved view behind: every view body it sent was invalid', async () => {
    const response = await fetch(`${target.core.url}/api/views`, {
      headers: { authorization: `Bearer ${TEST_TOKENS.viewer}` },
    })
    expect(await response.json()).toEqual({ views: [] })
  })

  it('leaves no kind limited: every kind body it sent was invalid', () => {
    expect(target.core.coordinator.configuredKinds().size).toBe(0)
  })
})

afterFuzzing(target)
