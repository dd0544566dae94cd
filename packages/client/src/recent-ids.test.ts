import { expect, it } from 'vitest'
import { RecentIds } from './recent-ids.js'

it('remembers the last `limit` ids, forgets the oldest first, and nothing at limit 0', () => {
  const ids = new RecentIds(3)
  for (const id of ['a', 'b', 'c', 'd']) ids.add(id)
  expect(['a', 'b', 'c', 'd'].map((id) => ids.has(id))).toEqual([false, true, true, true])
  ids.add('b') // already there: counted once, keeps its place
  ids.add('e')
  expect(['b', 'c', 'd', 'e'].map((id) => ids.has(id))).toEqual([false, true, true, true])
  ids.clear()
  expect(ids.has('e')).toBe(false)
  const none = new RecentIds(0)
  none.add('x')
  expect(none.has('x')).toBe(false)
})
