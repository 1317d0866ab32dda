import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Agent, Task } from '../../src/shared/domain'
import type { WorkflowSummary } from '../../src/shared/workflows'
import { TEST_TOKENS, TOKEN_ENV, getJson, until } from '../helpers/core'
import { builtEntry, run, type RunningProcess } from '../helpers/process'

const running: RunningProcess[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((process) => process.stop()))
})

const dataDir = () => mkdtempSync(join(tmpdir(), 'sm-swarm-cli-'))

describe('headless CLI with --swarm (built out/main/cli.js)', () => {
  it('refuses an invalid swarm file before starting: exit 2, file:line: path: reason, nothing written', async () => {
    const dir = dataDir()
    const cli = run(builtEntry('cli'), ['--swarm', 'examples/invalid-swarm.yaml', '--port', '0', '--data-dir', dir])
    expect(await cli.exited).toBe(2)
    expect(cli.stderr()).toContain('examples/invalid-swarm.yaml:9: tasks.0.priority: expected number, received string')
    expect(cli.stdout()).not.toMatch(/listening on/)
    expect(readdirSync(dir)).toEqual([])

    // A workflow's graph is checked as POST /api/workflows checks it.
    const file = join(dataDir(), 'cycle.yaml')
    writeFileSync(
      file,
      'workflows:\n  - name: w\n    tasks:\n      - { key: a, name: a, kind: k, dependsOn: [b] }\n      - { key: b, name: b, kind: k, dependsOn: [a] }\n',
    )
    const cycle = run(builtEntry('cli'), ['--swarm', file, '--port', '0', '--data-dir', dir])
    expect(await cycle.exited).toBe(2)
    expect(cycle.stderr()).toContain(`${file}:4: workflows.0.tasks.0.dependsOn: cycle: `)
    expect(readdirSync(dir)).toEqual([])
  })

  it('documents --swarm and --local-agents in --help', async () => {
    const help = run(builtEntry('cli'), ['--help'])
    expect(await help.exited).toBe(0)
    expect(help.stdout()).toMatch(/--swarm <file>/)
    expect(help.stdout()).toMatch(/--local-agents <n>[\s\S]*one per CPU core/)
  })

  it('runs examples/swarm.yaml: its agents join, its tasks and its workflow succeed, no demo swarm', async () => {
    const cli = run(
      builtEntry('cli'),
      ['--swarm', 'examples/swarm.yaml', '--local-agents', '1', '--port', '0', '--data-dir', dataDir()],
      TOKEN_ENV,
    )
    running.push(cli)
    const [, url] = await cli.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/)
    let tasks: Task[] = []
    const poll = setInterval(() => {
      void getJson(`${url}/api/tasks`, TEST_TOKENS.viewer).then(
        ({ body }) => (tasks = (body as { tasks: Task[] }).tasks),
      )
    }, 50)
    await until(
      () => tasks.length > 0 && tasks.every((task) => task.status === 'succeeded'),
      8000,
      'every task of the swarm file to succeed',
    ).finally(() => clearInterval(poll))
    expect(tasks.map((task) => task.name).sort()).toEqual([
      'build',
      'count to three',
      'greet from the environment',
      'hello',
      'lint',
      'list the examples',
      'package',
      'test',
    ])
    const { body: listed } = await getJson(`${url}/api/workflows`, TEST_TOKENS.viewer)
    expect((listed as { workflows: WorkflowSummary[] }).workflows).toEqual([
      expect.objectContaining({
        name: 'build and check',
        state: 'succeeded',
        progress: expect.objectContaining({ total: 4 }),
      }),
    ])
    expect(tasks.find((task) => task.name === 'list the examples')?.agentId).toMatch(/^local-builder-[12]$/)

    const { body } = await getJson(`${url}/api/agents`, TEST_TOKENS.viewer)
    expect((body as { agents: Agent[] }).agents.map((agent) => agent.id).sort()).toEqual([
      'local-1',
      'local-builder-1',
      'local-builder-2',
    ])
    expect(await cli.stop()).toBe(0)
  })
})
