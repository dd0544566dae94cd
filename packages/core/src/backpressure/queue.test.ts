import { describe, expect, it } from 'vitest'
import { concatFrames, FrameQueue, type QueueEntry } from './queue.js'

const entry = (seq: number, size = 10, key?: string): QueueEntry => ({
  seq,
  bytes: new Uint8Array(size).fill(seq),
  key,
})
const seqs = (q: FrameQueue) => q.takeAll().map((e) => e.seq)

describe('FrameQueue.offer', () => {
  it('queues within the budget, counting what the sink holds', () => {
    const q = new FrameQueue()
    expect(q.offer(entry(1), 80, 100, 'disconnect').accepted).toBe(true)
    expect(q.offer(entry(2), 80, 100, 'disconnect').accepted).toBe(true)
    expect(q.offer(entry(3), 80, 100, 'disconnect').accepted).toBe(false)
    expect(q.bytes).toBe(20)
  })

  it('drop-oldest drops from the front, and the offered frame when nothing else makes room', () => {
    const q = new FrameQueue()
    for (let i = 1; i <= 5; i++) q.offer(entry(i), 0, 50, 'drop-oldest')
    expect(q.offer(entry(6, 20), 0, 50, 'drop-oldest')).toEqual({ accepted: true, dropped: 2, coalesced: 0 })
    expect(seqs(q)).toEqual([3, 4, 5, 6])
    expect(q.offer(entry(7), 60, 50, 'drop-oldest')).toEqual({ accepted: true, dropped: 1, coalesced: 0 })
    expect(q.length).toBe(0)
  })

  it('latest replaces queued frames with the same key, and refuses when even that cannot fit', () => {
    const q = new FrameQueue()
    q.offer(entry(1, 10, 'a'), 0, 30, 'latest')
    q.offer(entry(2, 10, 'b'), 0, 30, 'latest')
    q.offer(entry(3, 10, 'a'), 0, 30, 'latest')
    expect(q.offer(entry(4, 10, 'b'), 0, 30, 'latest')).toEqual({ accepted: true, dropped: 0, coalesced: 1 })
    expect(q.offer(entry(5, 10, 'c'), 0, 30, 'latest').accepted).toBe(false)
    expect(seqs(q)).toEqual([1, 3, 4])
  })

  it('countUpTo counts whole frames, at least one; dropFront forgets them', () => {
    const q = new FrameQueue()
    for (let i = 1; i <= 4; i++) q.push(entry(i, 10))
    expect(q.countUpTo(25)).toBe(2)
    q.dropFront(2, 20)
    expect(q.countUpTo(5)).toBe(1)
    q.dropFront(1, 10)
    expect(q.bytes).toBe(10)
    expect(seqs(q)).toEqual([4])
  })

  it('concatFrames returns the shared bytes for one frame and one chunk for several', () => {
    const one = entry(1)
    expect(concatFrames([one], 10)).toBe(one.bytes)
    expect(Array.from(concatFrames([entry(1, 2), entry(2, 1)], 3))).toEqual([1, 1, 2])
  })
})
