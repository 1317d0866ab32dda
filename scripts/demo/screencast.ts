/**
 * Frames of a page through the DevTools protocol's screencast (Playwright's
 * own recordVideo needs an ffmpeg build it downloads, which is not possible
 * here). Headless Chromium sends a frame whenever the page repaints — up to
 * ~50 a second on the live dashboard, none while nothing changes — each with
 * the time it was drawn, so a frame lasts until the next one's timestamp.
 *
 * Frames closer together than `minGapS` are merged (the newer picture, the
 * older time): the content is at most that early, and the last picture
 * before a quiet spell is never dropped.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CDPSession } from 'playwright-core'

export interface Frame {
  file: string
  /** Seconds (epoch) when Chromium drew it. */
  at: number
}

interface Pending {
  data: string
  at: number
}

export class Screencast {
  readonly frames: Frame[] = []
  private pending: Pending | null = null
  private readonly writes: Promise<void>[] = []
  private startedAt = 0
  private stoppedAt = 0
  private received = 0

  constructor(
    private readonly cdp: CDPSession,
    private readonly dir: string,
    private readonly minGapS: number,
  ) {}

  /** Frames received from Chromium so far (before merging). */
  get count(): number {
    return this.received
  }

  async start(width: number, height: number): Promise<void> {
    this.cdp.on('Page.screencastFrame', (frame) => {
      this.received++
      // Chromium sends the next frame only once this one is acknowledged.
      this.cdp.send('Page.screencastFrameAck', { sessionId: frame.sessionId }).catch(() => {})
      this.add(frame.data, frame.metadata.timestamp ?? Date.now() / 1000)
    })
    this.startedAt = Date.now() / 1000
    await this.cdp.send('Page.startScreencast', { format: 'png', maxWidth: width, maxHeight: height, everyNthFrame: 1 })
  }

  /** Stops capturing and waits for every frame to be on disk; answers the seconds captured. */
  async stop(): Promise<number> {
    this.stoppedAt = Date.now() / 1000
    await this.cdp.send('Page.stopScreencast').catch(() => {})
    this.flush()
    await Promise.all(this.writes)
    return this.stoppedAt - this.startedAt
  }

  /**
   * An ffmpeg concat list: each frame with its duration. The concat demuxer
   * ignores the last entry's duration, so the last frame is listed twice.
   */
  concatList(): string {
    const lines = ['ffconcat version 1.0']
    this.frames.forEach((frame, i) => {
      const next = this.frames[i + 1]?.at ?? this.stoppedAt
      lines.push(`file '${frame.file}'`, `duration ${Math.max(0.001, next - frame.at).toFixed(6)}`)
    })
    const last = this.frames.at(-1)
    if (last) lines.push(`file '${last.file}'`)
    return lines.join('\n') + '\n'
  }

  private add(data: string, at: number): void {
    if (this.pending && at - this.pending.at < this.minGapS) {
      this.pending.data = data
      return
    }
    this.flush()
    this.pending = { data, at }
  }

  private flush(): void {
    if (!this.pending) return
    const file = join(this.dir, `frame-${String(this.frames.length + 1).padStart(5, '0')}.png`)
    this.frames.push({ file, at: this.pending.at })
    this.writes.push(writeFile(file, Buffer.from(this.pending.data, 'base64')))
    this.pending = null
  }
}
