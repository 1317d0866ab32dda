/**
 * Next animation frame, with a timer as a floor: browsers pause
 * requestAnimationFrame in background tabs, and the queue must not grow
 * while nobody looks. Outside a browser (unit tests) only the timer runs;
 * hence also the lookup through globalThis, which keeps this file free of
 * DOM types (the unit tests compile it with the Node tsconfig).
 */
export function scheduleFrame(callback: () => void): void {
  let done = false
  const run = (): void => {
    if (done) return
    done = true
    clearTimeout(timer)
    callback()
  }
  const timer = setTimeout(run, 100)
  const { requestAnimationFrame } = globalThis as { requestAnimationFrame?: (callback: () => void) => number }
  requestAnimationFrame?.(run)
}
