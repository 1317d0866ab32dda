/**
 * The renderer scenario on its own, with its knobs (the bench's
 * `npm run bench -- --only renderer` runs the same code, bench/scenarios/renderer.ts):
 *
 *   npm run build:app && node --import tsx bench/renderer-longtasks.ts [--quick] [--seconds 20] [--rate 150] [--load 2200] [--agents 1000]
 *
 * Prints the table and the verdict, and the result as JSON; exits 1 unless
 * the target was met.
 */
import { runMain } from './child'
import { measureRenderer, rendererOptions, rendererTable, rendererVerdict } from './scenarios/renderer'

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  const value = at > 0 ? Number(process.argv[at + 1]) : fallback
  if (!(value > 0)) throw new Error(`--${name} needs a positive number`)
  return value
}

async function main(): Promise<number> {
  const defaults = rendererOptions(process.argv.includes('--quick'))
  const result = await measureRenderer({
    ...defaults,
    windowMs: option('seconds', defaults.windowMs / 1000) * 1000,
    rate: option('rate', defaults.rate),
    loadPerS: option('load', defaults.loadPerS),
    agents: option('agents', defaults.agents),
  })
  const verdict = rendererVerdict(result)
  console.log(rendererTable(result))
  console.log(
    `\n${verdict.target}\n  ${verdict.measured}\n  met: ${verdict.met === null ? 'n/a' : verdict.met ? 'yes' : 'NO'}`,
  )
  console.log(JSON.stringify(result))
  return verdict.met === true ? 0 : 1
}

runMain(main)
