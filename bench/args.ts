/** `npm run bench -- [--quick] [--only name[,name]] [--minutes N]`. */
export interface BenchArgs {
  quick: boolean
  only: string[] | null
  minutes: number
  /** Up to this many seconds before each scenario, wait for other programs to leave the CPU. */
  waitQuiet: number
  help: boolean
}

export const USAGE = `Usage: npm run bench -- [options]

  --quick            smoke run (~2.5 minutes): shorter phases, fewer steps, no repeats
  --only <names>     run only these scenarios (comma-separated)
  --minutes <N>      soak length in minutes (default 1; SPEC's target is 10)
  --wait-quiet <S>   before each scenario, wait up to S seconds until other programs
                     use under a quarter of a core (the machine may be shared)
  --help             this text

Scenarios: latency, batched, throughput, memory, bytes, renderer, soak, compression, capacity, viewers,
           agent-rate, submit, hostile
Only when named (long): search (fills 1,000,000 tasks per backend first, ~20 minutes; --quick: 100,000)
Results: a table per scenario on the console, and bench/results/<date>.json`

export function parseArgs(argv: readonly string[], names: readonly string[]): BenchArgs {
  const args: BenchArgs = { quick: false, only: null, minutes: 1, waitQuiet: 0, help: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const value = () => {
      const next = argv[++i]
      if (next === undefined) throw new Error(`${arg} needs a value`)
      return next
    }
    if (arg === '--quick') args.quick = true
    else if (arg === '--help' || arg === '-h') args.help = true
    else if (arg === '--only') args.only = value().split(',').filter(Boolean)
    else if (arg === '--minutes') {
      args.minutes = Number(value())
      if (!(args.minutes > 0 && args.minutes <= 120)) throw new Error('--minutes must be a number between 0 and 120')
    } else if (arg === '--wait-quiet') {
      args.waitQuiet = Number(value())
      if (!(args.waitQuiet >= 0 && args.waitQuiet <= 600)) throw new Error('--wait-quiet must be 0 to 600 seconds')
    } else throw new Error(`unknown option ${arg}\n\n${USAGE}`)
  }
  const unknown = (args.only ?? []).filter((name) => !names.includes(name))
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; choose from ${names.join(', ')}`)
  return args
}
