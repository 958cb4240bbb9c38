/**
 * Runs `work` over `items` with at most `limit` at once, keeping the results
 * in the items' order. `canStart` is asked before each item starts (fail-fast
 * and cancellation); an item it refuses gets `skip(item)` instead.
 */
export async function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
  options: { canStart?: () => boolean; skip?: (item: T) => R } = {}
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      const item = items[index] as T
      if (options.canStart && !options.canStart() && options.skip) {
        results[index] = options.skip(item)
        continue
      }
      results[index] = await work(item, index)
    }
  }
  const workers = Array.from(
    { length: Math.max(1, Math.min(limit, items.length)) },
    worker
  )
  await Promise.all(workers)
  return results
}

/**
 * A gate for work started one item at a time: each call runs `work` once
 * fewer than `limit` are running, in call order, and gives its result.
 */
export function limitConcurrency(
  limit: number
): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0
  const waiting: (() => void)[] = []
  // A finished call hands its slot to the next waiting one, so no call
  // made in between can take it too.
  const release = (): void => {
    const next = waiting.shift()
    if (next) next()
    else running--
  }
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running < limit) running++
    else await new Promise<void>(resolve => waiting.push(resolve))
    try {
      return await work()
    } finally {
      release()
    }
  }
}
