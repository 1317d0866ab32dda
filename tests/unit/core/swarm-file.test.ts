import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/main/core/config/config'
import { createCore } from '../../../src/main/core/core'
import { loadSwarmFile, SwarmFileError } from '../../../src/main/core/config/swarm-file'
import { ROOT } from '../../helpers/process'

const dir = mkdtempSync(join(tmpdir(), 'sm-swarm-'))
function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

/** build; then test and lint; then deploy. Line 10 is test's dependsOn, 12 lint's key, 17 deploy's dependsOn. */
const WORKFLOW = `workflows:
  - name: release
    tasks:
      - key: build
        name: build
        kind: shell
        payload: { command: 'true', cwd: out }
      - key: test
        name: test
        dependsOn: [build]
        kind: k
      - key: lint
        name: lint
        kind: k
        dependsOn: [build]
      - key: deploy
        dependsOn: [test, lint]
        name: deploy
        kind: k
        maxRetries: 2
`

describe('swarm file', () => {
  it('loads the YAML example: agent groups, and tasks with the API defaults', () => {
    const swarm = loadSwarmFile(join(ROOT, 'examples/swarm.yaml'))
    expect(swarm.agents).toEqual([{ name: 'builder', count: 2, capabilities: ['shell', 'build'], concurrency: 2 }])
    expect(swarm.tasks.length).toBeGreaterThanOrEqual(3)
    expect(swarm.tasks[0]).toMatchObject({ name: 'hello', kind: 'shell', priority: 5, maxRetries: 0, timeoutMs: null })
    // A relative cwd is relative to the file's folder.
    expect(swarm.tasks.find((task) => task.name === 'list the examples')?.payload.cwd).toBe(join(ROOT, 'examples'))
    expect(swarm.workflows.map((w) => [w.name, w.tasks.map((task) => task.key)])).toEqual([
      ['build and check', ['build', 'test', 'lint', 'package']],
    ])
    expect(swarm.workflows[0]!.tasks[3]!.payload.cwd).toBe(join(ROOT, 'examples'))
  })

  it('loads JSON the same way, with defaults for what it leaves out', () => {
    const swarm = loadSwarmFile(
      file(
        's.json',
        '{"agents": [{"name": "w"}], "tasks": [{"name": "t", "kind": "shell", "payload": {"command": "true"}}]}',
      ),
    )
    expect(swarm.agents).toEqual([{ name: 'w', count: 1, capabilities: [], concurrency: 1 }])
    expect(swarm.tasks).toEqual([
      {
        name: 't',
        kind: 'shell',
        payload: { command: 'true' },
        priority: 0,
        capabilities: [],
        timeoutMs: null,
        maxRetries: 0,
      },
    ])
    expect(loadSwarmFile(join(ROOT, 'examples/swarm.json')).tasks).toHaveLength(2)
  })

  it('loads workflows with the API defaults; a relative cwd is relative to the file', () => {
    const path = file('workflow.yaml', WORKFLOW)
    const [release] = loadSwarmFile(path).workflows
    expect(release!.name).toBe('release')
    expect(release!.tasks.map((task) => [task.key, task.dependsOn])).toEqual([
      ['build', []],
      ['test', ['build']],
      ['lint', ['build']],
      ['deploy', ['test', 'lint']],
    ])
    expect(release!.tasks[0]).toMatchObject({ payload: { command: 'true', cwd: join(dir, 'out') }, priority: 0 })
    expect(release!.tasks[3]).toMatchObject({ maxRetries: 2, timeoutMs: null, capabilities: [] })
    expect(loadSwarmFile(file('none.yaml', 'agents: []\n')).workflows).toEqual([])
  })

  it.each([
    [
      'a wrong type, on its line',
      'bad.yaml',
      'tasks:\n  - name: a\n    kind: shell\n    payload: { command: "true" }\n  - name: b\n    kind: shell\n    priority: high\n    payload: { command: "true" }\n',
      ':7: tasks.1.priority: expected number, received string',
    ],
    [
      'an unknown field',
      'unknown.yaml',
      'agents:\n  - name: a\n    cuont: 2\n',
      ':3: agents.0: Unrecognized key: "cuont"',
    ],
    [
      'a missing field, at its object',
      'missing.yaml',
      'tasks:\n  - kind: etl\n',
      ':2: tasks.0.name: expected string, received undefined',
    ],
    [
      'a shell task without a command',
      'nocommand.yaml',
      'tasks:\n  - name: a\n    kind: shell\n    payload:\n      cwd: /tmp\n',
      ':4: tasks.0.payload.command: expected string, received undefined',
    ],
    [
      'a bad capability tag',
      'tag.yaml',
      'agents:\n  - name: a\n    capabilities: [ok, "not ok"]\n',
      ':3: agents.0.capabilities.1: capabilities are tags',
    ],
    [
      'a name used twice',
      'twice.yaml',
      'agents:\n  - name: a\n  - name: a\n',
      ':3: agents.1.name: agent name "a" is used twice',
    ],
    ['broken YAML', 'broken.yaml', 'agents:\n  - name: a\n    count: [1,\n  - name: b\n', ':4: '],
    ['a duplicate key', 'dup.yaml', 'tasks: []\ntasks: []\n', ':2: Map keys must be unique'],
    ['an empty file', 'empty.yaml', '', ':1: the file is empty'],
    [
      'a wrong type in JSON, on its line',
      'bad.json',
      '{\n  "tasks": [\n    {\n      "name": "x", "kind": "k",\n      "maxRetries": -1\n    }\n  ]\n}\n',
      ':5: tasks.0.maxRetries: Too small',
    ],
    ['JSON that is not JSON', 'notjson.json', '{\n  "tasks": [],\n}\n', ':3: not valid JSON'],
    [
      'a dependency, which a swarm file has no ids for',
      'deps.yaml',
      'tasks:\n  - name: t\n    kind: k\n    dependsOn: [t-1]\n',
      ':4: tasks.0.dependsOn: a task of "tasks" has no ids to depend on; declare tasks that depend on others under "workflows"',
    ],
    [
      'a workflow with a cycle, at the task that closes it',
      'cycle.yaml',
      // The first `dependsOn: [build]` is test's.
      WORKFLOW.replace('dependsOn: [build]', 'dependsOn: [build, deploy]'),
      ':10: workflows.0.tasks.1.dependsOn: cycle: test -> deploy -> test',
    ],
    [
      'a workflow naming an unknown key',
      'unknown-key.yaml',
      WORKFLOW.replace('dependsOn: [test, lint]', 'dependsOn: [test, lnit]'),
      ':17: workflows.0.tasks.3.dependsOn.1: unknown key "lnit"',
    ],
    [
      'a workflow with a key twice',
      'twice-key.yaml',
      WORKFLOW.replace('key: lint', 'key: test'),
      ':12: workflows.0.tasks.2.key: duplicate key "test" (also tasks.1)',
    ],
    [
      'a workflow task without a key',
      'no-key.yaml',
      WORKFLOW.replace('- key: lint\n        name: lint', '- name: lint'),
      ':12: workflows.0.tasks.2.key: expected string, received undefined',
    ],
  ])('refuses %s: file:line: path: reason', (_what, name, text, expected) => {
    const path = file(name, text)
    expect(() => loadSwarmFile(path)).toThrow(SwarmFileError)
    expect(() => loadSwarmFile(path)).toThrow(`${path}${expected}`)
  })

  it('lists several problems, one per line', () => {
    const path = file(
      'many.yaml',
      'agents:\n  - name: a\n    count: 0\ntasks:\n  - name: t\n    kind: k\n    priority: x\n',
    )
    const message = (() => {
      try {
        loadSwarmFile(path)
      } catch (error) {
        return (error as Error).message
      }
    })()
    expect(message?.split('\n')).toEqual([
      `${path}:3: agents.0.count: Too small: expected number to be >=1`,
      `${path}:7: tasks.0.priority: expected number, received string`,
    ])
  })

  it('refuses more than 100 workflows', () => {
    const one = { name: 'w', tasks: [{ key: 'a', name: 'a', kind: 'k' }] }
    const path = file('many-workflows.json', `{\n"workflows": ${JSON.stringify(Array(101).fill(one))}\n}\n`)
    expect(() => loadSwarmFile(path)).toThrow(`${path}:2: workflows: Too big: expected array to have <=100 items`)
    expect(
      loadSwarmFile(file('hundred.json', JSON.stringify({ workflows: Array(100).fill(one) }))).workflows,
    ).toHaveLength(100)
  })

  it('refuses a missing file or a wrong extension', () => {
    expect(() => loadSwarmFile(join(dir, 'nope.yaml'))).toThrow(/cannot read swarm file .*nope\.yaml: ENOENT/)
    expect(() => loadSwarmFile(file('swarm.txt', 'tasks: []'))).toThrow(/expected a \.yaml, \.yml or \.json file/)
  })

  it('is refused by createCore before anything starts: no data written', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sm-data-'))
    const bad = file('refused.yaml', 'tasks:\n  - name: t\n    kind: shell\n    payload: {}\n')
    const config = loadConfig(['--swarm', bad, '--data-dir', dataDir], {})
    expect(() => createCore(config, { console: false })).toThrow(`${bad}:4: tasks.0.payload.command`)
    const cycle = file('refused-cycle.yaml', WORKFLOW.replace('dependsOn: [build]', 'dependsOn: [deploy]'))
    expect(() => createCore(loadConfig(['--swarm', cycle, '--data-dir', dataDir], {}), { console: false })).toThrow(
      `${cycle}:10: workflows.0.tasks.1.dependsOn: cycle: `,
    )
    expect(readdirSync(dataDir)).toEqual([])
  })
})

describe('config: local agents and swarm file', () => {
  it('runs one local agent per CPU core by default, and the demo swarm without a swarm file', () => {
    expect(loadConfig([], {})).toMatchObject({ localAgents: availableParallelism(), swarm: null, demo: true })
  })

  it('--local-agents N from a flag, the environment or the config file; 0 disables', () => {
    expect(loadConfig(['--local-agents', '0'], {}).localAgents).toBe(0)
    expect(loadConfig([], { SWARM_MONITOR_LOCAL_AGENTS: '3' }).localAgents).toBe(3)
    expect(loadConfig(['--config', file('c.yaml', 'localAgents: 5\n')], {}).localAgents).toBe(5)
    expect(() => loadConfig(['--local-agents', 'many'], {})).toThrow('--local-agents must be a whole number')
    expect(() => loadConfig(['--local-agents', '-1'], {})).toThrow(/localAgents/)
  })

  it('--swarm turns the demo off unless --demo asks for it; --no-demo leaves local agents on', () => {
    expect(loadConfig(['--swarm', 'x.yaml'], {})).toMatchObject({ swarm: 'x.yaml', demo: false })
    expect(loadConfig(['--swarm', 'x.yaml', '--demo'], {}).demo).toBe(true)
    expect(loadConfig([], { SWARM_MONITOR_SWARM: 'y.yml' })).toMatchObject({ swarm: 'y.yml', demo: false })
    expect(loadConfig(['--no-demo', '--local-agents', '2'], {})).toMatchObject({ demo: false, localAgents: 2 })
  })
})
