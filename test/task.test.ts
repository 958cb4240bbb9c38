import { describe, expect, it } from 'vitest'
import { inTaskOrder, type ConfigProblem } from '../src/task.js'

describe('inTaskOrder', () => {
  const tasks = [{ name: 'a' }, { name: 'b' }, { name: 'c' }]
  const problem = (task: string | undefined, rule: string): ConfigProblem => ({
    task,
    field: 'path',
    rule
  })

  it.each<[string, ConfigProblem[], string[]]>([
    ['already in order', [problem('a', '1'), problem('c', '2')], ['1', '2']],
    ['finished last first', [problem('c', '1'), problem('a', '2')], ['2', '1']],
    [
      'two of one task keep their order',
      [problem('b', '1'), problem('a', '2'), problem('b', '3')],
      ['2', '1', '3']
    ],
    [
      'no task goes last',
      [problem(undefined, '1'), problem('b', '2')],
      ['2', '1']
    ]
  ])('%s', (_label, problems, rules) => {
    expect(inTaskOrder(problems, tasks).map(p => p.rule)).toEqual(rules)
  })
})
