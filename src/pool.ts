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
