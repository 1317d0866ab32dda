import { describe, expect, it } from 'vitest'
import { agentRunsTask, routingBar, whyNoAgentRuns } from '../../../src/shared/routing'
import type { AgentKind } from '../../../src/shared/domain'

describe('agentRunsTask', () => {
  const task = (kind: string, capabilities: string[] = []) => ({ kind, capabilities })
  const agent = (kind: AgentKind, kinds: string[] | null, capabilities: string[]) => ({ kind, kinds, capabilities })

  it('lets an agent that names no kinds run any kind its capabilities cover', () => {
    const any = agent('demo', null, ['gpu', 'io'])
    expect(agentRunsTask(any, task('render', ['gpu']))).toBe(true)
    expect(agentRunsTask(any, task('anything'))).toBe(true)
    expect(agentRunsTask(any, task('render', ['gpu', 'net']))).toBe(false)
  })

  it('keeps an agent that names its kinds to those, capabilities still counting', () => {
    const named = agent('remote', ['hash', 'sleep'], ['python'])
    expect(agentRunsTask(named, task('hash'))).toBe(true)
    expect(agentRunsTask(named, task('sleep', ['python']))).toBe(true)
    expect(agentRunsTask(named, task('report'))).toBe(false)
    expect(agentRunsTask(named, task('hash', ['gpu']))).toBe(false)
  })

  it('keeps shell tasks on local agents unless the policy lets remote agents take them', () => {
    const shellTask = task('shell', ['shell'])
    const local = agent('local', ['shell'], ['shell'])
    const remote = agent('remote', null, ['shell'])
    expect(agentRunsTask(local, shellTask)).toBe(true)
    expect(agentRunsTask(remote, shellTask)).toBe(false)
    expect(routingBar(remote, shellTask)).toBe('remote_not_allowed')
    expect(agentRunsTask(remote, shellTask, { remoteShellAgents: false })).toBe(false)
    expect(agentRunsTask(remote, shellTask, { remoteShellAgents: true })).toBe(true)
    // Other kinds are not concerned, and the policy never lets in an agent without the capability.
    expect(agentRunsTask(remote, task('hash', ['shell']))).toBe(true)
    expect(agentRunsTask(agent('remote', null, []), shellTask, { remoteShellAgents: true })).toBe(false)
  })
})

describe('whyNoAgentRuns', () => {
  const shellTask = { kind: 'shell', capabilities: ['shell'] }

  it('names the policy when it is what bars an agent that would run the task', () => {
    const remote = { kind: 'remote' as const, kinds: null, capabilities: ['shell'] }
    expect(whyNoAgentRuns([remote], shellTask)).toBe(
      'No agent may run shell tasks: remote agents are not allowed to (the server runs without --allow-remote-shell-agents).',
    )
    expect(whyNoAgentRuns([remote], shellTask, { remoteShellAgents: true })).toBeNull()
  })

  it('says what no agent offers otherwise', () => {
    const demo = { kind: 'demo' as const, kinds: null, capabilities: [] }
    expect(whyNoAgentRuns([demo], { kind: 'render', capabilities: ['tpu'] })).toBe(
      'No agent can run this task now: none runs render tasks with tpu.',
    )
    expect(whyNoAgentRuns([], shellTask)).toBe('No agent can run this task now: none runs shell tasks with shell.')
    expect(whyNoAgentRuns([demo], { kind: 'report', capabilities: [] })).toBeNull()
  })
})
