/**
 * Starts the layout worker. The `new Worker(new URL(…, import.meta.url))`
 * form is what Vite recognises and bundles as a worker chunk; it stays in
 * this file, which only the page imports (tests under Node have no Worker).
 */
import type { LayoutAnswer, LayoutWorker } from '../workflow-layout'

export function startLayoutWorker(): LayoutWorker | null {
  let worker: Worker
  try {
    worker = new Worker(new URL('./workflow-layout.worker.ts', import.meta.url), { type: 'module' })
  } catch {
    return null
  }
  return {
    listen(onAnswer, onError) {
      worker.onmessage = (event: MessageEvent<LayoutAnswer>) => onAnswer(event.data)
      worker.onerror = () => onError()
    },
    postMessage: (request) => worker.postMessage(request),
    terminate: () => worker.terminate(),
  }
}
