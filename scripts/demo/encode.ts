/** Encoding the captured frames with Debian's ffmpeg: a VP9 WebM and a palette GIF. */
import { spawn, spawnSync } from 'node:child_process'

export const FFMPEG = process.env.FFMPEG_PATH || 'ffmpeg'

/** Null when ffmpeg runs and has the encoders needed, else a one-line reason. */
export function checkFfmpeg(): string | null {
  const result = spawnSync(FFMPEG, ['-hide_banner', '-encoders'], { encoding: 'utf8' })
  if (result.error || result.status !== 0) {
    return `ffmpeg not found (${FFMPEG}): install it with "apt-get install ffmpeg", or set FFMPEG_PATH`
  }
  for (const encoder of ['libvpx-vp9', 'gif']) {
    if (!new RegExp(`^\\s*V\\S*\\s+${encoder}\\s`, 'm').test(result.stdout)) {
      return `${FFMPEG} has no ${encoder} encoder: install Debian's ffmpeg ("apt-get install ffmpeg")`
    }
  }
  return null
}

/** Runs ffmpeg on a concat list; reports progress as a share of `seconds`. */
function ffmpeg(args: string[], seconds: number, progress: (share: number) => void): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(
      FFMPEG,
      ['-hide_banner', '-loglevel', 'error', '-nostats', '-progress', 'pipe:1', '-y', ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let errors = ''
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()))
    child.stdout.on('data', (chunk: Buffer) => {
      const times = [...chunk.toString().matchAll(/^out_time_us=(\d+)/gm)]
      const last = times.at(-1)
      if (last) progress(Math.min(1, Number(last[1]) / 1e6 / seconds))
    })
    child.once('error', fail)
    child.once('exit', (code, signal) => {
      if (code === 0) done()
      else
        fail(
          new Error(
            `ffmpeg failed (${signal ?? `exit code ${code}`}): ${errors.trim().split('\n').slice(-5).join(' | ')}`,
          ),
        )
    })
  })
}

export interface EncodeInput {
  /** The ffconcat file listing the frames and their durations. */
  list: string
  seconds: number
  progress: (share: number) => void
}

/**
 * VP9 at constant quality, frames duplicated or dropped to a fixed rate.
 * Realtime mode with screen-content tuning: ~10× faster than "good" on this
 * kind of picture, at a little more size and no visible loss on text.
 */
export function encodeWebm(
  input: EncodeInput,
  out: string,
  size: { width: number; height: number; fps: number },
): Promise<void> {
  return ffmpeg(
    [
      ...['-f', 'concat', '-safe', '0', '-i', input.list],
      ...['-vf', `fps=${size.fps},scale=${size.width}:${size.height}:flags=lanczos,format=yuv420p`],
      ...['-c:v', 'libvpx-vp9', '-b:v', '0', '-crf', '36', '-row-mt', '1'],
      ...['-deadline', 'realtime', '-cpu-used', '6', '-tune-content', 'screen'],
      ...['-g', String(size.fps * 5), '-an', out],
    ],
    input.seconds,
    input.progress,
  )
}

/**
 * One palette for the whole GIF (the views share their colours), no dithering
 * (flat UI colours and text stay crisp and compress well), and only the
 * changed rectangle of each frame stored.
 */
export function encodeGif(
  input: EncodeInput,
  out: string,
  size: { width: number; height: number; fps: number },
): Promise<void> {
  const filter =
    `fps=${size.fps},scale=${size.width}:${size.height}:flags=lanczos,split[a][b];` +
    `[a]palettegen=max_colors=128:stats_mode=full[p];[b][p]paletteuse=dither=none:diff_mode=rectangle`
  return ffmpeg(
    [...['-f', 'concat', '-safe', '0', '-i', input.list], ...['-filter_complex', filter, '-loop', '0', out]],
    input.seconds,
    input.progress,
  )
}
