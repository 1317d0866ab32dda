/**
 * The swarm file (`--swarm FILE`, YAML or JSON): local agent groups, and tasks
 * and workflows to submit at start. It is read and validated before anything starts; any
 * problem is a `SwarmFileError` naming the file, the line, the field's path
 * and the reason (`swarm.yaml:7: tasks.0.priority: …`), one line per problem.
 */
import { readFileSync } from 'node:fs'
import { dirname, extname, isAbsolute, resolve } from 'node:path'
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import { z } from 'zod'
import { TaskSubmitSchema, WorkflowSubmitSchema, type TaskSubmit } from '../../../shared/commands'
import { CapabilitySchema } from '../../../shared/domain'
import { ConfigError } from './config'

/** Workflows one swarm file may declare (each up to `WORKFLOW_LIMITS.tasks` tasks). */
export const SWARM_FILE_WORKFLOWS = 100

const AgentGroupSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(48)
      .regex(/^[A-Za-z0-9_.-]+$/, 'agent names are letters, digits and _ . -'),
    count: z.number().int().min(1).max(256).default(1),
    capabilities: z.array(CapabilitySchema).max(32).default([]),
    concurrency: z.number().int().min(1).max(256).default(1),
  })
  .strict()

const SwarmFileSchema = z
  .object({
    agents: z.array(AgentGroupSchema).max(100).default([]),
    // A swarm file's task ids are made at start, so it has none to name in `dependsOn`: its workflows' keys are.
    tasks: z
      .array(
        TaskSubmitSchema.refine((task) => task.dependsOn === undefined, {
          path: ['dependsOn'],
          message: 'a task of "tasks" has no ids to depend on; declare tasks that depend on others under "workflows"',
        }),
      )
      .max(10_000)
      .default([]),
    // The schema and graph checks of POST /api/workflows.
    workflows: z.array(WorkflowSubmitSchema).max(SWARM_FILE_WORKFLOWS).default([]),
  })
  .strict()
  .superRefine((swarm, ctx) => {
    const seen = new Set<string>()
    swarm.agents.forEach((group, index) => {
      if (seen.has(group.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['agents', index, 'name'],
          message: `agent name "${group.name}" is used twice`,
        })
      }
      seen.add(group.name)
    })
  })

export type SwarmFile = z.output<typeof SwarmFileSchema>
export type SwarmWorkflow = SwarmFile['workflows'][number]
export type { TaskSubmit }

/** At most this many problems are listed; the rest are counted. */
const MAX_PROBLEMS = 10

export class SwarmFileError extends ConfigError {
  override name = 'SwarmFileError'
}

/**
 * Reads, parses and validates a swarm file. A relative `cwd` in a shell
 * task's payload (a workflow's too) is taken relative to the file's folder,
 * so a swarm file means the same wherever the server is started from.
 */
export function loadSwarmFile(file: string): SwarmFile {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new SwarmFileError(`cannot read swarm file ${file}: ${(error as NodeJS.ErrnoException).message}`)
  }
  const extension = extname(file).toLowerCase()
  if (!['.yaml', '.yml', '.json'].includes(extension)) {
    throw new SwarmFileError(`swarm file ${file}: expected a .yaml, .yml or .json file`)
  }
  const swarm = parseSwarm(text, file, extension === '.json' ? 'json' : 'yaml')
  for (const task of [...swarm.tasks, ...swarm.workflows.flatMap((workflow) => workflow.tasks)]) {
    const cwd = task.payload.cwd
    if (task.kind === 'shell' && typeof cwd === 'string' && !isAbsolute(cwd)) {
      task.payload = { ...task.payload, cwd: resolve(dirname(file), cwd) }
    }
  }
  return swarm
}

/** Parses swarm file text; `name` is how errors refer to it. */
export function parseSwarm(text: string, name: string, format: 'yaml' | 'json'): SwarmFile {
  if (format === 'json') checkJson(text, name)
  // JSON is parsed as YAML too (YAML 1.2 is a superset of it): the node ranges give each field's line.
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true })
  if (doc.errors.length > 0) {
    throw new SwarmFileError(
      doc.errors
        .slice(0, MAX_PROBLEMS)
        .map((error) => `${name}:${error.linePos?.[0].line ?? 1}: ${error.message.replace(/ at line \d+.*$/s, '')}`)
        .join('\n'),
    )
  }
  if (doc.contents === null)
    throw new SwarmFileError(`${name}:1: the file is empty; expected "agents", "tasks" and/or "workflows"`)
  const parsed = SwarmFileSchema.safeParse(doc.toJS({ maxAliasCount: 100 }))
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.slice(0, MAX_PROBLEMS).map((issue) => {
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path
    const line = lineOf(doc, lineCounter, path)
    const field = issue.path.map(String).join('.')
    const reason = issue.message.replace(/^Invalid input: /, '')
    return `${name}:${line}: ${field ? `${field}: ` : ''}${reason}`
  })
  const more = parsed.error.issues.length - MAX_PROBLEMS
  if (more > 0) problems.push(`${name}: … and ${more} more problems`)
  throw new SwarmFileError(problems.join('\n'))
}

/** Strict JSON, not just YAML that happens to look like it. */
function checkJson(text: string, name: string): void {
  try {
    JSON.parse(text)
  } catch (error) {
    const message = (error as Error).message
    const position = /at position (\d+)/.exec(message)
    const line = position ? text.slice(0, Number(position[1])).split('\n').length : 1
    throw new SwarmFileError(`${name}:${line}: not valid JSON: ${message.replace(/ in JSON at position \d+.*$/s, '')}`)
  }
}

/** The line of the deepest node on `path` that exists: the field itself, or the object it is missing from. */
function lineOf(doc: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): number {
  let node: Node | null = (doc.contents as Node | null) ?? null
  let offset = node?.range?.[0] ?? 0
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => String((item.key as { value?: unknown } | null)?.value) === String(key))
      if (!pair) break
      const keyNode = pair.key as Node | null
      // The key's line: where a reader looks for the field, even when its value is a block below it.
      offset = keyNode?.range?.[0] ?? offset
      node = pair.value as Node | null
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as Node | undefined
      if (!item?.range) break
      offset = item.range[0]
      node = item
    } else {
      break
    }
  }
  return lineCounter.linePos(offset).line
}
