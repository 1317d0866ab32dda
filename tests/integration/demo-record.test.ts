/**
 * scripts/record-demo.ts for real, in its short mode: the built server, Debian's
 * Chromium and ffmpeg. Checks what ffprobe says of the WebM and the GIF, and
 * that the frames show a dashboard that changed. Needs out/ (npm run build:app).
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtEntry, ROOT } from '../helpers/process'

const SCRIPT = join(ROOT, 'scripts/record-demo.ts')

interface Run {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

const running = new Set<ReturnType<typeof spawn>>()

function record(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const started = Date.now()
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      running.delete(child)
      resolve({ code, stdout, stderr, ms: Date.now() - started })
    }),
  )
}

interface Probe {
  codec: string
  width: number
  height: number
  frames: number
  seconds: number
}

function probe(file: string): Probe {
  const result = spawnSync(
    'ffprobe',
    [
      ...['-v', 'error', '-count_frames', '-select_streams', 'v:0'],
      ...['-show_entries', 'stream=codec_name,width,height,nb_read_frames:format=duration', '-of', 'json', file],
    ],
    { encoding: 'utf8' },
  )
  expect(result.status, result.stderr).toBe(0)
  const info = JSON.parse(result.stdout) as {
    streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[]
    format: { duration: string }
  }
  const stream = info.streams[0]!
  return {
    codec: stream.codec_name,
    width: stream.width,
    height: stream.height,
    frames: Number(stream.nb_read_frames),
    seconds: Number(info.format.duration),
  }
}

/** One hash per decoded frame (ffmpeg's framemd5 muxer). */
function frameHashes(file: string): string[] {
  const result = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'framemd5', '-'], { encoding: 'utf8' })
  expect(result.status, result.stderr).toBe(0)
  return result.stdout
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(',').at(-1)!.trim())
}

/** The decoded frames of a video, as 64×40 grey pictures. */
function greyFrames(file: string): Buffer[] {
  const result = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-vf', 'scale=64:40', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    { maxBuffer: 256 * 1024 * 1024 },
  )
  expect(result.status, result.stderr.toString()).toBe(0)
  const size = 64 * 40
  return Array.from({ length: Math.floor(result.stdout.length / size) }, (_, i) =>
    result.stdout.subarray(i * size, (i + 1) * size),
  )
}

function meanDifference(a: Buffer, b: Buffer): number {
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!)
  return sum / a.length
}

describe('npm run demo:record', () => {
  const out = mkdtempSync(join(tmpdir(), 'sm-demo-test-'))

  beforeAll(() => {
    builtEntry('cli') // fails clearly when out/ was not built
  })

  afterAll(() => {
    for (const child of running) child.kill('SIGTERM')
    rmSync(out, { recursive: true, force: true })
  })

  it('records a short tour into a WebM and a GIF of the requested size, with frames that change', async () => {
    const run = await record(['--short', '--out', out, '--width', '640', '--height', '400', '--gif-width', '320'])
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0)
    // Progress as it goes: the tour's steps, frames, encoding.
    expect(run.stdout).toMatch(/recording the tour/)
    expect(run.stdout).toMatch(/Alerts .*\[\d+ frames\]/)
    expect(run.stdout).toMatch(/the shell task succeeded/)
    expect(run.stdout).toMatch(/encoding WebM[\s\S]*encoding GIF/)

    const webm = probe(join(out, 'demo.webm'))
    expect(webm).toMatchObject({ codec: 'vp9', width: 640, height: 400 })
    expect(webm.seconds).toBeGreaterThan(5)
    expect(webm.seconds).toBeLessThan(60)
    expect(webm.frames).toBeGreaterThan(webm.seconds * 25 * 0.9) // a constant 25 fps

    const gif = probe(join(out, 'demo.gif'))
    expect(gif).toMatchObject({ codec: 'gif', width: 320, height: 200 })
    expect(Math.abs(gif.seconds - webm.seconds)).toBeLessThan(1)
    expect(gif.frames).toBeGreaterThan(20)

    // The dashboard was live: many different pictures, and the views changed.
    expect(new Set(frameHashes(join(out, 'demo.gif'))).size).toBeGreaterThan(20)
    const frames = greyFrames(join(out, 'demo.webm'))
    const first = frames[0]!
    const changed = frames.filter((frame) => meanDifference(first, frame) > 8).length
    expect(changed, 'frames that look unlike the first (another view)').toBeGreaterThan(frames.length / 4)
    expect(meanDifference(first, frames.at(-1)!)).toBeGreaterThan(0)
  }, 120_000)

  it.each([
    [['--seconds', 'abc'], /--seconds must be a whole number from 4 to 120, not "abc"/],
    [['--seconds', '2'], /--seconds must be a whole number from 4 to 120, not "2"/],
    [['--bogus'], /unknown option --bogus/],
    [['--width', '641'], /--width must be even/],
  ])('refuses %j with a clear message, exit code 2, before starting anything', async (args, message) => {
    const target = join(out, 'refused')
    const run = await record([...args, '--out', target])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(message)
    expect(run.stderr).toMatch(/--help/)
    expect(run.stdout).not.toMatch(/starting/)
    expect(existsSync(target)).toBe(false)
  })

  it('says to install ffmpeg when it is missing, before starting anything', async () => {
    const target = join(out, 'no-ffmpeg')
    const run = await record(['--short', '--out', target], { FFMPEG_PATH: '/nonexistent/ffmpeg' })
    expect(run.code).toBe(1)
    expect(run.stderr.trim()).toMatch(/^record-demo: ffmpeg not found .*apt-get install ffmpeg/)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stdout).not.toMatch(/starting/)
    expect(existsSync(target)).toBe(false)
  })

  it('prints its options with --help', async () => {
    const run = await record(['--help'])
    expect(run.code).toBe(0)
    for (const flag of ['--out', '--seconds', '--short', '--warmup', '--width', '--height', '--gif-width']) {
      expect(run.stdout).toContain(flag)
    }
  })
})
