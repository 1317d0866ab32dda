/**
 * A binary heap of task ids: higher priority first, then first come first
 * served. Removal is lazy: a removed id is skipped when it reaches the top.
 */
interface Entry {
  id: string
  priority: number
  order: number
}

const before = (a: Entry, b: Entry) => a.priority > b.priority || (a.priority === b.priority && a.order < b.order)

export class PriorityQueue {
  private heap: Entry[] = []
  private readonly live = new Map<string, Entry>()
  private counter = 0

  get size(): number {
    return this.live.size
  }

  has(id: string): boolean {
    return this.live.has(id)
  }

  /** `order` keeps a requeued task's original place among equals. */
  push(id: string, priority: number, order = this.counter++): void {
    if (this.live.has(id)) return
    const entry = { id, priority, order }
    this.live.set(id, entry)
    this.heap.push(entry)
    this.up(this.heap.length - 1)
  }

  remove(id: string): boolean {
    return this.live.delete(id)
  }

  /** Takes the first id; null when empty. */
  pop(): { id: string; priority: number; order: number } | null {
    while (this.heap.length > 0) {
      const top = this.heap[0]!
      const last = this.heap.pop()!
      if (this.heap.length > 0) {
        this.heap[0] = last
        this.down(0)
      }
      if (this.live.get(top.id) === top) {
        this.live.delete(top.id)
        return top
      }
    }
    return null
  }

  private up(index: number): void {
    const heap = this.heap
    while (index > 0) {
      const parent = (index - 1) >> 1
      if (!before(heap[index]!, heap[parent]!)) break
      ;[heap[index], heap[parent]] = [heap[parent]!, heap[index]!]
      index = parent
    }
  }

  private down(index: number): void {
    const heap = this.heap
    for (;;) {
      const left = index * 2 + 1
      const right = left + 1
      let best = index
      if (left < heap.length && before(heap[left]!, heap[best]!)) best = left
      if (right < heap.length && before(heap[right]!, heap[best]!)) best = right
      if (best === index) return
      ;[heap[index], heap[best]] = [heap[best]!, heap[index]!]
      index = best
    }
  }
}
