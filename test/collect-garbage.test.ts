import { describe, expect, it } from 'vitest'
import { collectGarbage } from '../src/collect-garbage.js'

describe('collectGarbage', () => {
  it('frees an object nothing refers to, at once', async () => {
    const ref = ((): WeakRef<object> =>
      new WeakRef({ bytes: Buffer.alloc(1e6) }))()
    // A WeakRef's target lives until the current job ends.
    await new Promise(resolve => setImmediate(resolve))
    collectGarbage()
    expect(ref.deref()).toBeUndefined()
  })

  it('keeps what is still referred to', async () => {
    const kept = { bytes: Buffer.alloc(10) }
    const ref = new WeakRef(kept)
    await new Promise(resolve => setImmediate(resolve))
    collectGarbage()
    expect(ref.deref()).toBe(kept)
  })
})
