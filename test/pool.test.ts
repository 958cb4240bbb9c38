import { describe, expect, it } from 'vitest'
import { limitConcurrency } from '../src/pool.js'

describe('limitConcurrency', () => {
  it.each([
    { limit: 1, calls: 5 },
    { limit: 3, calls: 10 },
    { limit: 16, calls: 4 }
  ])(
    'runs at most $limit of $calls at once, each giving its own result',
    async ({ limit, calls }) => {
      const gate = limitConcurrency(limit)
      let running = 0
      let most = 0
      const started: number[] = []
      const results = await Promise.all(
        Array.from({ length: calls }, (_, i) =>
          gate(async () => {
            started.push(i)
            running++
            most = Math.max(most, running)
            await new Promise(resolve => setTimeout(resolve, 5))
            running--
            return i * 10
          })
        )
      )
      expect(results).toEqual(Array.from({ length: calls }, (_, i) => i * 10))
      expect(most).toBe(Math.min(limit, calls))
      expect(started).toEqual(Array.from({ length: calls }, (_, i) => i))
    }
  )

  it('gives a freed slot to a waiting call, not to one made after it', async () => {
    const gate = limitConcurrency(1)
    let running = 0
    let most = 0
    const work = async (): Promise<void> => {
      running++
      most = Math.max(most, running)
      await Promise.resolve()
      running--
    }
    const first = gate(work)
    const waiting = gate(work)
    await first
    // The slot is already handed over: this call must wait its turn.
    const late = gate(work)
    await Promise.all([waiting, late])
    expect(most).toBe(1)
  })

  it('frees the slot when the work fails', async () => {
    const gate = limitConcurrency(1)
    await expect(gate(() => Promise.reject(new Error('no')))).rejects.toThrow(
      'no'
    )
    await expect(gate(() => Promise.resolve('next'))).resolves.toBe('next')
  })
})
