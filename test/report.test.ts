import { describe, expect, it } from 'vitest'
import { computeOutputs, renderSummary } from '../src/report/summary.js'
import type { TaskResult } from '../src/report/result.js'
import { runReport } from './support/run-report.js'

const report = runReport

const created: TaskResult = {
  name: 'a',
  action: 'create',
  status: 'done',
  bytes: 2048,
  files: 3,
  durationMs: 500
}
const updated: TaskResult = {
  name: 'b',
  action: 'update',
  status: 'done',
  changes: ['code', 'memoryLimit']
}
const unchanged = (name: string): TaskResult => ({
  name,
  action: 'unchanged',
  status: 'done'
})

describe('computeOutputs', () => {
  it('counts by action and says whether anything changed', () => {
    const outputs = computeOutputs(report([created, updated, unchanged('c')]))
    expect(outputs).toMatchObject({
      created: '1',
      updated: '1',
      unchanged: '1',
      deleted: '0',
      failed: '0',
      changed: 'true'
    })
    const result = JSON.parse(outputs.result ?? '') as TaskResult[]
    expect(Object.keys(result[0] ?? {})).toEqual([
      'name',
      'action',
      'status',
      'bytes',
      'files',
      'durationMs'
    ])
  })

  it.each<[string, TaskResult[], boolean, string]>([
    ['only unchanged', [unchanged('a')], false, 'false'],
    [
      'update without changes',
      [{ name: 'a', action: 'update', status: 'done', changes: [] }],
      false,
      'false'
    ],
    [
      'planned create',
      [{ name: 'a', action: 'create', status: 'planned' }],
      false,
      'true'
    ],
    [
      'failed create',
      [{ name: 'a', action: 'create', status: 'failed' }],
      false,
      'false'
    ],
    [
      'offline',
      [{ name: 'a', action: 'validate', status: 'planned' }],
      true,
      ''
    ]
  ])('changed for %s', (_label, results, offline, changed) => {
    expect(computeOutputs(report(results, { offline })).changed).toBe(changed)
  })

  it('never includes the host', () => {
    const outputs = computeOutputs(report([created]))
    expect(JSON.stringify(outputs)).not.toContain('sandbox')
  })
})

describe('renderSummary', () => {
  it('reads as a plan in a dry run', () => {
    const markdown = renderSummary(
      report(
        [
          { name: 'a', action: 'create', status: 'planned' },
          {
            name: 'b',
            action: 'update',
            status: 'planned',
            changes: ['timeLimit']
          },
          { ...unchanged('c'), status: 'planned' }
        ] satisfies TaskResult[],
        { dryRun: true }
      )
    )
    expect(markdown).toContain('1 to create, 1 to update, 1 unchanged')
    expect(markdown).toContain('| `b` | update | 📝 planned | `timeLimit` |')
  })

  it('shows totals, a row per task with size and time, then errors', () => {
    const markdown = renderSummary(
      report(
        [
          created,
          { name: 'x|y', action: 'update', status: 'failed', error: 'boom' }
        ],
        {
          errors: ['tasks/a/task-config.json:3: timeLimit: must be <= 300']
        }
      )
    )
    expect(markdown).toContain(
      '## Extra Horizon tasks: ❌ failed (1 of 2 tasks)'
    )
    expect(markdown).toContain('1 created, 0 updated, 0 unchanged, 1 failed')
    expect(markdown).toContain(
      '| `a` | create | ✅ done |  | 2.0 KiB (3 files) | 0.5 s |'
    )
    expect(markdown).toContain('`x\\|y`')
    expect(markdown).toContain(
      '- `tasks/a/task-config.json:3: timeLimit: must be <= 300`'
    )
  })

  it('collapses unchanged rows into a count above 50 tasks', () => {
    const many = Array.from({ length: 50 }, (_, i) => unchanged(`t${i}`))
    const markdown = renderSummary(report([created, ...many]))
    expect(markdown).toContain('…and 50 unchanged tasks.')
    expect(markdown).not.toContain('| `t49` |')
    expect(markdown).toContain('| `a` |')
  })

  it('lists every row up to 50 tasks', () => {
    const many = Array.from({ length: 49 }, (_, i) => unchanged(`t${i}`))
    const markdown = renderSummary(report([created, ...many]))
    expect(markdown).toContain('| `t48` |')
    expect(markdown).not.toContain('unchanged tasks.')
  })

  it('says which credentials were missing offline', () => {
    const markdown = renderSummary(
      report([{ name: 'a', action: 'validate', status: 'planned' }], {
        dryRun: true,
        offline: true,
        missingCredentials: ['token', 'token-secret']
      })
    )
    expect(markdown).toContain('validated offline')
    expect(markdown).toContain('token, token-secret missing')
  })

  it('stays under the runner limit', () => {
    const huge = Array.from({ length: 20_000 }, (_, i) => ({
      name: `task-${i}-${'x'.repeat(40)}`,
      action: 'create' as const,
      status: 'done' as const
    }))
    expect(renderSummary(report(huge)).length).toBeLessThan(1024 * 1024)
  })
})

/** What a rendered piece of Markdown must never contain, whatever went in. */
function expectInert(markdown: string): void {
  // A link or image needs `](`, outside a code span; a heading a line start.
  const outsideCode = markdown.replace(/(`+)[^`]*?\1/g, '')
  expect(outsideCode).not.toMatch(/\]\(/)
  expect(outsideCode).not.toMatch(/<img|<a |<script/i)
  expect(markdown).not.toMatch(/^#+ H/m)
  expect(markdown).not.toMatch(/@team/)
}

describe('renderSummary with untrusted text', () => {
  const hostile = [
    '[x](https://evil.example)',
    '![i](https://evil.example/i.png)',
    '@team please merge',
    'target\n\n# H\n<img src=x onerror=alert(1)>'
  ]

  it.each(hostile)(
    'cannot render a link, image, heading, HTML or mention from %j',
    text => {
      const markdown = renderSummary(
        report(
          [
            { name: text, action: 'create', status: 'planned' },
            {
              name: 'b',
              config: text,
              action: 'update',
              status: 'planned',
              changes: ['description'],
              details: [{ field: 'description', before: text, after: text }]
            },
            { name: 'c', status: 'failed', error: text },
            { config: text, status: 'skipped', error: `not started: ${text}` }
          ],
          {
            dryRun: true,
            label: text,
            errors: [text],
            warnings: [`tasks/a: symlink to ${text}`],
            functions: [
              {
                name: text,
                description: text,
                repository: text,
                drift: 'unknown'
              }
            ]
          }
        )
      )
      expectInert(markdown)
    }
  )
})

describe('renderSummary details', () => {
  it('shows before → after of each change, environment keys without values', () => {
    const markdown = renderSummary(
      report(
        [
          {
            name: 'b',
            action: 'update',
            status: 'planned',
            changes: ['timeLimit', 'environment.API_KEY'],
            details: [
              { field: 'timeLimit', before: '30', after: '60' },
              { field: 'environment.API_KEY', note: 'added' }
            ]
          }
        ],
        { dryRun: true }
      )
    )
    expect(markdown).toContain(
      '`timeLimit`: `30` → `60`<br>`environment.API_KEY` added'
    )
  })

  it('says why a task was skipped, in its row', () => {
    const markdown = renderSummary(
      report([
        { ...created, status: 'failed', error: 'boom' },
        {
          name: 'b',
          status: 'skipped',
          error: 'not started: fail-fast after a failed'
        }
      ])
    )
    expect(markdown).toContain(
      '| `b` |  | ⏭️ skipped | error: `not started: fail-fast after a failed` |'
    )
  })

  it('names the label in the title', () => {
    const markdown = renderSummary(report([created], { label: 'staging' }))
    expect(markdown).toMatch(/^## Extra Horizon tasks \(staging\): ✅ done/)
  })

  it('cuts an oversized summary after a whole line', () => {
    const huge = Array.from({ length: 20_000 }, (_, i) => ({
      name: `task-${i}-${'x'.repeat(40)}`,
      action: 'create' as const,
      status: 'done' as const
    }))
    const markdown = renderSummary(report(huge))
    expect(Buffer.byteLength(markdown)).toBeLessThan(1024 * 1024)
    expect(markdown).toMatch(/\|\n\n… \(summary cut at the size limit\)\n$/)
  })
})

describe('renderSummary limits: one noisy task never pushes the others out', () => {
  const config = 'tasks/noisy/task-config.json'
  const problems = Array.from(
    { length: 2000 },
    (_, i) => `${config}:${i + 2}: key${i}: is not allowed (unknown property)`
  )

  it('counts a config’s problems in its row and lists ten of them under Errors', () => {
    const markdown = renderSummary(
      report(
        [
          {
            name: 'noisy',
            config,
            status: 'failed',
            error: `2000 problems: ${'key: is not allowed; '.repeat(2000)}`,
            problems: 2000
          },
          {
            name: 'ok',
            config: 'tasks/ok/task-config.json',
            status: 'skipped',
            error: 'not started: another config is invalid'
          }
        ],
        { errors: ['tasks: matched no task: x', ...problems] }
      )
    )
    expect(markdown).toContain(
      '| `noisy` |  | ❌ failed | error: 2000 problems (under Errors) |'
    )
    expect(markdown).toContain('| `ok` |')
    expect(markdown).toContain('- `tasks: matched no task: x`')
    expect(markdown).toContain(`- \`${config}:11: key9: `)
    expect(markdown).not.toContain(`${config}:12: key10: `)
    expect(markdown).toContain('- … and 1990 more (the log has them all)')
    expect(markdown.length).toBeLessThan(5000)
  })

  it('cuts a long error, name or permissions note to 300 characters', () => {
    const long = 'x'.repeat(1000)
    const markdown = renderSummary(
      report(
        [
          { name: `n${long}`, status: 'failed', error: `e${long}` },
          {
            name: 'b',
            action: 'update',
            status: 'planned',
            changes: ['executionCredentials.permissions'],
            details: [
              {
                field: 'executionCredentials.permissions',
                note: Array.from({ length: 500 }, (_, i) => `+P${i}`).join(' ')
              }
            ]
          }
        ],
        { dryRun: true, warnings: [`w${long}`] }
      )
    )
    expect(markdown).toContain(
      `\`n${'x'.repeat(299)}\` … (701 more characters)`
    )
    expect(markdown).toContain(
      `\`e${'x'.repeat(299)}\` … (701 more characters)`
    )
    expect(markdown).toContain(`w${'x'.repeat(299)} … (701 more characters)`)
    expect(markdown).toMatch(
      /`executionCredentials\.permissions: \+P0 \+P1 [^`]*` … \(2623 more characters\) \|/
    )
    for (const line of markdown.split('\n')) {
      expect(line.length).toBeLessThan(1000)
    }
  })

  it('keeps at most 300 raw characters of changes in a cell', () => {
    const changes = Array.from(
      { length: 200 },
      (_, i) => `environment.KEY_${i}`
    )
    const markdown = renderSummary(
      report(
        [
          {
            name: 'b',
            action: 'update',
            status: 'planned',
            changes,
            details: changes.map(field => ({ field, note: 'added' }))
          }
        ],
        { dryRun: true }
      )
    )
    expect(markdown).toContain('`environment.KEY_0` added<br>')
    expect(markdown).toMatch(/ … and 1\d\d more \|/)
  })

  it('lists what a create sets, by field and variable name, and says 1 file', () => {
    const markdown = renderSummary(
      report(
        [
          {
            name: 'a',
            action: 'create',
            status: 'planned',
            sets: ['code', 'entryPoint', 'environment.API_KEY'],
            bytes: 10,
            files: 1
          }
        ],
        { dryRun: true }
      )
    )
    expect(markdown).toContain(
      '| sets `code`, `entryPoint`, `environment.API_KEY` | 0.0 KiB (1 file) |'
    )
  })

  it('says 1 function for a list of one', () => {
    const markdown = renderSummary(
      report([], {
        command: 'list',
        functions: [{ name: 'a', drift: 'unmanaged' }]
      })
    )
    expect(markdown).toContain('1 function on ')
  })
})
