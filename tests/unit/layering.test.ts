/**
 * The layer rules of eslint.config.mjs, proved on code that breaks them: each
 * case lints a few import lines as though they stood in a file at the given
 * path (ESLint's lintText, nothing written to disk) and expects the rule to
 * fire, or not. Then the real tree: src/main/core lints clean of the core's
 * layer rule, and no file of it imports itself back through others.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { ESLint } from 'eslint'
import { beforeAll, describe, expect, it } from 'vitest'

const ROOT = resolve(__dirname, '../..')
const CORE = join(ROOT, 'src/main/core')
let eslint: ESLint

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT })
})

/** The layer rules' messages for `code` linted as the file at `path` (relative to the repository). */
async function layerProblems(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) })
  return result!.messages
    .filter((message) => message.ruleId === 'layers/ordered' || message.ruleId === 'no-restricted-imports')
    .map((message) => message.message)
}

describe('layers inside src/main/core', () => {
  it.each([
    [
      'coordinator/x.ts',
      "import { EventLog } from '../pipeline/event-log'",
      /coordinator\/ \(state layer\) may not import pipeline\//,
    ],
    [
      'storage/x.ts',
      "import type { Fanout } from '../pipeline/fanout'",
      /storage\/ \(state layer\) may not import pipeline\//,
    ],
    [
      'pipeline/x.ts',
      "import type { Limits } from '../server/limits'",
      /pipeline\/ \(pipeline layer\) may not import server\//,
    ],
    ['server/x.ts', "import { createCore } from '../core'", /server\/ \(server layer\) may not import core\.ts/],
    ['metrics/x.ts', "export { AlertEngine } from '../alerts/engine'", /metrics\/ .* may not import alerts\//],
    [
      'config/x.ts',
      "const load = () => import('../storage/history')",
      /config\/ \(settings layer\) may not import storage\//,
    ],
    ['logger.ts', "import type { Config } from './config/config'", /logger\.ts \(log layer\) may not import config\//],
    ['coordinator/x.ts', "type T = import('../server/http').HttpDeps", /coordinator\/ .* may not import server\//],
  ])('%s: %s is refused', async (file, code, message) => {
    const problems = await layerProblems(`src/main/core/${file}`, code)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(message)
  })

  it('refuses imports between the units of one layer', async () => {
    const problems = await layerProblems(
      'src/main/core/coordinator/x.ts',
      "import type { TaskHistory } from '../storage/history'",
    )
    expect(problems).toEqual([expect.stringMatching(/coordinator\/ and storage\/ share the state layer/)])
  })

  it('refuses a folder that is in no layer, and imports of it', async () => {
    const inside = await layerProblems('src/main/core/galaxy/x.ts', "import { x } from './y'")
    expect(inside).toEqual([expect.stringMatching(/src\/main\/core\/galaxy\/ is in no layer/)])
    const into = await layerProblems('src/main/core/server/x.ts', "import { x } from '../galaxy/bus'")
    expect(into).toEqual([expect.stringMatching(/src\/main\/core\/galaxy\/ is in no layer/)])
  })

  it.each([
    [
      'server/x.ts',
      "import type { Fanout } from '../pipeline/fanout'\nimport { Coordinator } from '../coordinator/coordinator'",
    ],
    [
      'pipeline/x.ts',
      "import { AlertEngine } from '../alerts/engine'\nimport { createHistory } from '../storage/open-history'",
    ],
    [
      'coordinator/x.ts',
      "import { TaskBook } from './task-book'\nimport { isTerminal } from '../../../shared/statuses'",
    ],
    ['core.ts', "import { createPipeline } from './pipeline/pipeline'\nimport { listen } from './server/listen'"],
    ['storage/x.ts', "import type { Logger } from '../logger'\nimport { writePrivateFile } from '../private-file'"],
  ])('%s may import from below: %s', async (file, code) => {
    expect(await layerProblems(`src/main/core/${file}`, code)).toEqual([])
  })
})

describe('layers between the top folders', () => {
  it.each([
    ['src/shared/x.ts', "import { createCore } from '../main/core/core'", /src\/shared imports no other layer/],
    ['src/shared/x.ts', "import { readFileSync } from 'node:fs'", /no Node built-ins/],
    ['src/renderer/src/x.ts', "import { VERSION } from '../../main/core/version'", /The renderer reaches main only/],
    ['src/main/core/server/x.ts', "import { app } from 'electron'", /electron may be imported only by/],
    ['src/sdk/x.ts', "import { Fanout } from '../main/core/pipeline/fanout'", /The SDK depends on src\/shared only/],
  ])('%s: %s is refused', async (file, code, message) => {
    const problems = await layerProblems(file, code)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(message)
  })

  it('lets the shell import electron', async () => {
    expect(await layerProblems('src/main/shell/x.ts', "import { BrowserWindow } from 'electron'")).toEqual([])
  })
})

describe('the core as it is', () => {
  it('keeps its layers', async () => {
    const results = await eslint.lintFiles(['src/main/core/**/*.ts'])
    const broken = results.flatMap((result) =>
      result.messages
        .filter((message) => message.ruleId === 'layers/ordered')
        .map((message) => `${relative(ROOT, result.filePath)}:${message.line} ${message.message}`),
    )
    expect(results.length).toBeGreaterThan(50)
    expect(broken).toEqual([])
  })

  it('has no import cycle', () => {
    const files = sourceFiles(CORE)
    const imports = new Map(files.map((file) => [file, relativeImports(file)]))
    const cycles: string[] = []
    const state = new Map<string, 'open' | 'done'>()
    const path: string[] = []
    const visit = (file: string): void => {
      state.set(file, 'open')
      path.push(file)
      for (const next of imports.get(file) ?? []) {
        if (state.get(next) === 'open') {
          cycles.push([...path.slice(path.indexOf(next)), next].map((f) => relative(CORE, f)).join(' → '))
        } else if (!state.has(next)) visit(next)
      }
      path.pop()
      state.set(file, 'done')
    }
    for (const file of files) if (!state.has(file)) visit(file)
    expect(files.length).toBeGreaterThan(50)
    expect(cycles).toEqual([])
  })
})

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

/** The .ts files a file imports or re-exports by relative path, type-only imports included. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const found: string[] = []
  for (const match of text.matchAll(/\b(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = resolve(dirname(file), match[1]!)
    const candidate = [`${target}.ts`, join(target, 'index.ts')].find((path) => existsSync(path))
    if (candidate) found.push(candidate)
  }
  return found
}
