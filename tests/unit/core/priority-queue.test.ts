import { describe, expect, it } from 'vitest'
import { PriorityQueue } from '../../../src/main/core/coordinator/priority-queue'

describe('PriorityQueue', () => {
  it('pops higher priority first, then first in first out', () => {
    const queue = new PriorityQueue()
    queue.push('low-1', 0)
    queue.push('high', 10)
    queue.push('low-2', 0)
    queue.push('mid', 5)
    const order: string[] = []
    for (let next = queue.pop(); next; next = queue.pop()) order.push(next.id)
    expect(order).toEqual(['high', 'mid', 'low-1', 'low-2'])
  })

  it('skips removed ids and reports its size', () => {
    const queue = new PriorityQueue()
    queue.push('a', 1)
    queue.push('b', 2)
    expect(queue.remove('b')).toBe(true)
    expect(queue.size).toBe(1)
    expect(queue.pop()?.id).toBe('a')
    expect(queue.pop()).toBeNull()
  })

  it('keeps the original place of a requeued id among equals', () => {
    const queue = new PriorityQueue()
    queue.push('first', 0)
    const first = queue.pop()!
    queue.push('second', 0)
    queue.push('first', 0, first.order)
    expect(queue.pop()?.id).toBe('first')
  })

  it('orders a large random set correctly', () => {
    const queue = new PriorityQueue()
    const priorities = Array.from({ length: 2000 }, (_, i) => ((i * 7919) % 101) - 50)
    priorities.forEach((priority, i) => queue.push(`t${i}`, priority))
    let previous = Infinity
    let count = 0
    for (let next = queue.pop(); next; next = queue.pop()) {
      expect(next.priority).toBeLessThanOrEqual(previous)
      previous = next.priority
      count++
    }
    expect(count).toBe(2000)
  })
})
