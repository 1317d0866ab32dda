/**
 * The docs follow the contract: every event name of the Socket.IO maps and
 * every domain event type in src/shared appears in docs/protocol.md, and the
 * agent messages in docs/agents.md too. Names are read from the source, so a
 * new event without documentation fails here; a new domain event type does
 * not even compile until `EVENT_DATA_DOCS` has it.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EVENT_CHANNEL, type DomainEventType } from '../../../src/shared/events'

const ROOT = join(__dirname, '../../..')
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8')

/** The member names of `interface <name> { … }` (or `interface <name> extends … { … }`) in a TypeScript source. */
function members(source: string, name: string): string[] {
  const start = source.search(new RegExp(`interface ${name}( extends [\\w, ]+)? \\{`))
  if (start < 0) throw new Error(`interface ${name} not found`)
  const body = source.slice(start, source.indexOf('\n}', start))
  return [...body.matchAll(/^ {2}'?([\w:-]+)'?\s*:/gm)].map((match) => match[1]!)
}

/**
 * How docs/protocol.md's event table states each event's data. Typed by
 * `DomainEventType`, so a new event type fails to compile here until its row
 * is written (and this test checks the row is there).
 */
const EVENT_DATA_DOCS: Record<DomainEventType, string> = {
  'agent:added': '{ agent }',
  'agent:status': '{ agentId, ...changed }',
  'agent:removed': '{ agentId }',
  'task:added': '{ task }',
  'task:status': '{ taskId, status, agentId, attempts, requeues?, error?, progress?, startedAt?, finishedAt? }',
  'task:progress': '{ taskId, progress }',
  'task:log': '{ taskId, agentId, level, message }',
  metrics: '{ sample }',
  alert: '{ alert }',
  'kind:limits': '{ kind, paused, maxRunning, maxPerMinute, rateHeldUntil }',
  schedule: '{ schedule }',
  'schedule:removed': '{ scheduleId }',
}

const protocol = read('src/shared/protocol.ts')
const events = read('src/shared/events.ts')
const protocolDoc = read('docs/protocol.md')
const agentsDoc = read('docs/agents.md')

describe('docs/protocol.md and docs/agents.md cover src/shared', () => {
  const maps = [
    'DashboardServerToClient',
    'DashboardCommands',
    'DashboardClientToServer',
    'AgentsServerToClient',
    'AgentsClientToServer',
  ]

  it.each(maps)('documents every event of %s in docs/protocol.md', (map) => {
    const names = members(protocol, map)
    expect(names.length).toBeGreaterThan(2)
    for (const name of names) expect(protocolDoc, `${map}.${name}`).toContain(`\`${name}\``)
  })

  it.each(['AgentsServerToClient', 'AgentsClientToServer'])('documents every event of %s in docs/agents.md', (map) => {
    for (const name of members(protocol, map)) expect(agentsDoc, `${map}.${name}`).toContain(`\`${name}\``)
  })

  it('documents every domain event type: its data and its channel', () => {
    for (const [type, data] of Object.entries(EVENT_DATA_DOCS) as [DomainEventType, string][]) {
      const row = protocolDoc.split('\n').find((line) => line.startsWith(`| \`${type}\` |`))
      expect(row, `docs/protocol.md has no row for the event ${type}`).toBeDefined()
      expect(row, type).toContain(`\`${data}\``)
      expect(row!.trim(), type).toMatch(new RegExp(`\\| ${EVENT_CHANNEL[type]} \\|$`))
    }
    // The table above is typed, so it cannot miss a type; this catches a type added outside `EventData`.
    expect(Object.keys(EVENT_DATA_DOCS).sort()).toEqual(members(events, 'EventData').sort())
  })
})
