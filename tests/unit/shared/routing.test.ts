import { describe, expect, it } from 'vitest'
import { agentRunsTask } from '../../../src/shared/routing'

describe('agentRunsTask', () => {
  const task = (kind: string, capabilities: string[] = []) => ({ kind, capabilities })

  it('lets an agent that names no kinds run any kind its capabilities cover', () => {
    const agent = { kinds: null, capabilities: ['gpu', 'io'] }
    expect(agentRunsTask(agent, task('render', ['gpu']))).toBe(true)
    expect(agentRunsTask(agent, task('anything'))).toBe(true)
    expect(agentRunsTask(agent, task('render', ['gpu', 'net']))).toBe(false)
  })

  it('keeps an agent that names its kinds to those, capabilities still counting', () => {
    const agent = { kinds: ['hash', 'sleep'], capabilities: ['python'] }
    expect(agentRunsTask(agent, task('hash'))).toBe(true)
    expect(agentRunsTask(agent, task('sleep', ['python']))).toBe(true)
    expect(agentRunsTask(agent, task('report'))).toBe(false)
    expect(agentRunsTask(agent, task('hash', ['gpu']))).toBe(false)
  })
})
