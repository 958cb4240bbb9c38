import { describe, expect, it } from 'vitest'
import { createTaskFilter } from '../src/config/task-filter.js'

describe('createTaskFilter', () => {
  it.each<[string[], string, boolean]>([
    [[], 'anything', true],
    [['alpha'], 'alpha', true],
    [['alpha'], 'alphabet', false],
    [['report-*'], 'report-daily', true],
    [['report-*'], 'daily-report', false],
    [['*-sync'], 'users-sync', true],
    [['a.b'], 'axb', false],
    [['x', 'y*'], 'yes', true]
  ])('%j matches %s: %s', (patterns, name, expected) => {
    expect(createTaskFilter(patterns).matches(name)).toBe(expected)
  })

  it('names the patterns that matched nothing', () => {
    const filter = createTaskFilter(['a*', 'missing', 'b'])
    expect(filter.unmatched(['apple', 'b'])).toEqual(['missing'])
  })
})
