/**
 * A new domain event type does not compile until every place that must
 * decide something about it does: the channel table, the reducer, the
 * batcher (immediate? coalesced?), the subscription filter (narrowed by
 * agent?) and the docs test (where is it documented?). Proved by compiling
 * those files with the TypeScript compiler and a dummy event type added to
 * `EventData` in memory: the errors must be exactly these places, each the
 * exhaustiveness check (`const never: never` or a `Record<DomainEventType, …>`).
 */
import { join } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const ROOT = join(__dirname, '../../..')
const EVENTS = join(ROOT, 'src/shared/events.ts')
const ROOTS = [
  'src/shared/reducer.ts',
  'src/main/core/pipeline/batcher.ts',
  'src/main/core/pipeline/subscription.ts',
  'tests/unit/docs/protocol-docs.test.ts',
]

/** Where a new event type must be handled: file and the function or constant that fails without it. */
const MUST_HANDLE = [
  'src/main/core/pipeline/batcher.ts coalescing',
  'src/main/core/pipeline/batcher.ts isImmediate',
  'src/main/core/pipeline/subscription.ts narrowedBy',
  'src/shared/events.ts EVENT_CHANNEL',
  'src/shared/reducer.ts applyEvent',
  'tests/unit/docs/protocol-docs.test.ts EVENT_DATA_DOCS',
]

/** The name of the function around `position`, or else of the constant. */
function enclosingName(file: ts.SourceFile, position: number): string {
  let fn: string | null = null
  let constant: string | null = null
  const visit = (node: ts.Node): void => {
    if (position < node.getStart(file) || position >= node.getEnd()) return
    if (ts.isFunctionDeclaration(node) && node.name) fn = node.name.text
    if (ts.isVariableDeclaration(node)) constant = node.name.getText(file)
    ts.forEachChild(node, visit)
  }
  visit(file)
  return fn ?? constant ?? '(top level)'
}

function compileWithDummyEvent(): ts.Diagnostic[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.node.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
      },
    },
  )
  if (!config) throw new Error('tsconfig.node.json could not be read')
  const host = ts.createCompilerHost(config.options)
  const read = host.getSourceFile.bind(host)
  host.getSourceFile = (fileName, language, onError, fresh) => {
    if (fileName !== EVENTS) return read(fileName, language, onError, fresh)
    const source = ts.sys.readFile(fileName)!
    const patched = source.replace(
      'interface EventData {\n',
      "interface EventData {\n  'dummy:event': { note: string }\n",
    )
    if (patched === source) throw new Error('interface EventData not found in src/shared/events.ts')
    return ts.createSourceFile(fileName, patched, language)
  }
  const program = ts.createProgram({ rootNames: ROOTS.map((file) => join(ROOT, file)), options: config.options, host })
  return [...ts.getPreEmitDiagnostics(program)]
}

describe('a new event type', () => {
  it('is a compile error wherever it is not handled, and nowhere else', () => {
    const errors = compileWithDummyEvent().map((diagnostic) => {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
      const file = diagnostic.file
      if (!file || diagnostic.start === undefined) return { where: '(no file)', message }
      return { where: `${file.fileName.slice(ROOT.length + 1)} ${enclosingName(file, diagnostic.start)}`, message }
    })
    expect(errors.map((error) => error.where).sort(), JSON.stringify(errors, null, 2)).toEqual(MUST_HANDLE)
    for (const { where, message } of errors) expect(message, where).toMatch(/dummy:event/)
  }, 60_000)
})
