/**
 * The agent token stays off command lines in what the project tells people to
 * run: an argument is visible to every user of the machine (`ps`,
 * `/proc/PID/cmdline`), and the examples read the token from
 * SWARM_MONITOR_AGENT_TOKEN. Every command in the README, docs/ and examples/
 * that starts an agent is checked.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(__dirname, '../../..')

function files(dir: string, pattern: RegExp): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && pattern.test(entry.name))
    .map((entry) => join(entry.parentPath.slice(ROOT.length + 1), entry.name))
}

/** A line that runs an agent (the examples, or the SDK under node/tsx) with a token argument. */
const TOKEN_ON_COMMAND_LINE = /(npx tsx|node|python3?)\s[^\n]*--token[ =]/

describe('agent tokens in the documentation', () => {
  const documents = ['README.md', ...files('docs', /\.md$/), ...files('examples', /\.(md|ts|py|ya?ml|json)$/)]

  it('are never passed to an agent on its command line', () => {
    const offending = documents.flatMap((file) =>
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => (TOKEN_ON_COMMAND_LINE.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    )
    expect(offending).toEqual([])
  })

  it('checks what it should: the README and both examples are among the documents', () => {
    expect(documents).toEqual(
      expect.arrayContaining(['README.md', 'docs/agents.md', 'examples/README.md', 'examples/agents/python_agent.py']),
    )
  })
})
