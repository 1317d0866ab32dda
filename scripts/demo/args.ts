/** `npm run demo:record -- [options]`: the options, checked before anything starts. */
export interface DemoArgs {
  /** Where demo.webm and demo.gif go. */
  out: string
  /** How long the tour should take, roughly (the recording's length). */
  seconds: number
  /** Seconds the swarm runs before recording starts, so the 5-minute charts hold more than a sliver. */
  warmup: number
  /** Browser viewport in CSS pixels; also the WebM's size. */
  width: number
  height: number
  /** The GIF's width; its height keeps the aspect ratio. */
  gifWidth: number
  theme: 'dark' | 'light'
  /** WebM frame rate. */
  fps: number
  /** Keep the captured frames (their folder is printed) instead of deleting them. */
  keepFrames: boolean
  help: boolean
}

export const USAGE = `Usage: npm run demo:record -- [options]

Records a short tour of the dashboard on the demo swarm, with Debian's Chromium
(/usr/bin/chromium, or CHROMIUM_PATH) and ffmpeg (on PATH, or FFMPEG_PATH),
into DIR/demo.webm and DIR/demo.gif. Needs "npm run build:app" (demo:record runs it).

  --out DIR          output folder (default docs/demo)
  --seconds N        length of the tour, 4 to 120 s (default 20)
  --short            a brief recording for tests: --seconds 6 --warmup 0
  --warmup N         seconds the swarm runs before recording starts, so the charts
                     have history, 0 to 600 (default 60)
  --width N          viewport and WebM width, 480 to 3840 (default 1440)
  --height N         viewport and WebM height, 300 to 2160 (default 900)
  --gif-width N      GIF width, 160 to the viewport width (default 960, at most --width)
  --theme T          dark or light (default dark)
  --fps N            WebM frame rate, 5 to 60 (default 25)
  --keep-frames      keep the captured PNG frames (their folder is printed)
  --help             this text`

export class UsageError extends Error {}

function integer(flag: string, text: string, min: number, max: number): number {
  const value = Number(text)
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not "${text}"`)
  }
  return value
}

/** Even sizes: VP9 with 4:2:0 chroma needs them. */
function even(flag: string, value: number): number {
  if (value % 2 !== 0) throw new UsageError(`${flag} must be even (the video codec needs it), not ${value}`)
  return value
}

export function parseArgs(argv: readonly string[]): DemoArgs {
  const args: DemoArgs = {
    out: 'docs/demo',
    seconds: 20,
    warmup: 60,
    width: 1440,
    height: 900,
    gifWidth: 960,
    theme: 'dark',
    fps: 25,
    keepFrames: false,
    help: false,
  }
  let gifWidthGiven = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined]
    const value = (): string => {
      const next = inline ?? argv[++i]
      if (next === undefined || next === '') throw new UsageError(`${flag} needs a value`)
      return next
    }
    switch (flag) {
      case '--help':
      case '-h':
        args.help = true
        break
      case '--out':
        args.out = value()
        break
      case '--seconds':
        args.seconds = integer('--seconds', value(), 4, 120)
        break
      case '--short':
        args.seconds = 6
        args.warmup = 0
        break
      case '--warmup':
        args.warmup = integer('--warmup', value(), 0, 600)
        break
      case '--width':
        args.width = even('--width', integer('--width', value(), 480, 3840))
        break
      case '--height':
        args.height = even('--height', integer('--height', value(), 300, 2160))
        break
      case '--gif-width':
        args.gifWidth = even('--gif-width', integer('--gif-width', value(), 160, 3840))
        gifWidthGiven = true
        break
      case '--theme': {
        const theme = value()
        if (theme !== 'dark' && theme !== 'light') throw new UsageError(`--theme must be dark or light, not "${theme}"`)
        args.theme = theme
        break
      }
      case '--fps':
        args.fps = integer('--fps', value(), 5, 60)
        break
      case '--keep-frames':
        args.keepFrames = true
        break
      default:
        throw new UsageError(`unknown option ${arg}`)
    }
  }
  if (!gifWidthGiven) args.gifWidth = Math.min(args.gifWidth, args.width)
  if (args.gifWidth > args.width) throw new UsageError(`--gif-width (${args.gifWidth}) exceeds --width (${args.width})`)
  return args
}

/** The GIF's height for a viewport: the same aspect ratio, rounded to even like ffmpeg's `scale=W:-2`. */
export function gifHeight(args: Pick<DemoArgs, 'width' | 'height' | 'gifWidth'>): number {
  return Math.round((args.height * args.gifWidth) / args.width / 2) * 2
}
