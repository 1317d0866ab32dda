import { afterEach, describe, expect, it } from 'vitest'
import { LoopLag } from '../../../src/main/core/server/loop-lag'

/** A LoopLag on a clock the test moves, ticked by the test. */
function lagAt(options: { windowMs?: number; maxMs?: number } = {}) {
  const clock = { now: 1000 }
  const lag = new LoopLag({ intervalMs: 50, now: () => clock.now, ...options })
  lag.start({ timer: false })
  /** Ticks on time for `ms`. */
  const steady = (ms: number) => {
    for (let t = 0; t < ms; t += 50) {
      clock.now += 50
      lag.tick()
    }
  }
  return { clock, lag, steady }
}

describe('LoopLag', () => {
  let running: LoopLag | null = null
  afterEach(() => running?.stop())

  it('reads 0 on a loop that keeps time, and 0 when not started', () => {
    const { lag, steady } = lagAt()
    steady(2000)
    expect(lag.recentMs()).toBe(0)
    expect(new LoopLag().recentMs()).toBe(0)
  })

  it('sees a block while it lasts, before the late tick has run', () => {
    const { clock, lag, steady } = lagAt()
    steady(500)
    clock.now += 4050 // the loop is stuck: the tick due 50 ms after the last one has not run
    expect(lag.recentMs()).toBe(4000)
  })

  it('remembers the largest lateness for its window, then forgets it', () => {
    const { clock, lag, steady } = lagAt({ windowMs: 10_000 })
    clock.now += 3050
    lag.tick() // 3 s late
    steady(1000)
    clock.now += 1050
    lag.tick() // 1 s late
    steady(5000)
    expect(lag.recentMs()).toBe(3000)
    steady(4000) // the 3 s lateness is now older than the window; the 1 s one is not
    expect(lag.recentMs()).toBe(1000)
    steady(10_000)
    expect(lag.recentMs()).toBe(0)
  })

  it('adds up two late turns in a row: a socket read early in one and late in the next waited for both', () => {
    const { clock, lag, steady } = lagAt()
    steady(500)
    clock.now += 1050
    lag.tick() // 1 s late
    clock.now += 700 // and the next tick is 650 ms overdue right now
    expect(lag.recentMs()).toBe(1650)
    clock.now += 350
    lag.tick() // 1 s late again
    steady(1000)
    expect(lag.recentMs()).toBe(2000)
  })

  it('credits at most maxMs', () => {
    const { clock, lag } = lagAt({ maxMs: 60_000 })
    clock.now += 600_000
    expect(lag.recentMs()).toBe(60_000)
  })

  it('measures the real event loop: a 300 ms busy loop shows', async () => {
    running = new LoopLag({ intervalMs: 20 })
    running.start()
    await new Promise((resolve) => setTimeout(resolve, 100))
    const end = performance.now() + 300
    while (performance.now() < end) {
      // busy
    }
    expect(running.recentMs()).toBeGreaterThanOrEqual(250)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(running.recentMs()).toBeGreaterThanOrEqual(250)
    running.stop()
    expect(running.recentMs()).toBe(0)
  })
})
