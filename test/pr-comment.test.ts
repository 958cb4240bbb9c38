import { describe, expect, it } from 'vitest'
import {
  commentLinks,
  commentMarker,
  hasMarker,
  renderComment
} from '../src/report/pr-comment.js'

describe('commentMarker', () => {
  it.each([
    ['staging', 'tasks'],
    ['a --> <b>', 'x--y'],
    ['', 'org/repo:tasks']
  ])('keeps label %j and scope %j inside one HTML comment', (label, scope) => {
    const marker = commentMarker({ label, scope })
    expect(marker.startsWith('<!-- exh-tasks-action ')).toBe(true)
    expect(marker.indexOf('-->')).toBe(marker.length - 3)
    expect(marker.slice(4, -3)).not.toContain('--')
    expect(marker).not.toContain('\n')
  })

  it('tells labels and scopes apart', () => {
    const markers = new Set(
      [
        { label: 'staging', scope: 'tasks' },
        { label: 'production', scope: 'tasks' },
        { label: '', scope: 'tasks' },
        { label: 'staging', scope: 'other' }
      ].map(commentMarker)
    )
    expect(markers.size).toBe(4)
  })
})

describe('hasMarker', () => {
  const legacy = '<!-- exh-tasks-action scope: tasks -->\nold plan'
  it.each<[string, string, string, boolean]>([
    [
      'its own marker',
      commentMarker({ label: 'a', scope: 's' }) + '\nx',
      'a',
      true
    ],
    [
      'another label',
      commentMarker({ label: 'b', scope: 's' }) + '\nx',
      'a',
      false
    ],
    [
      'the marker quoted later',
      `hello\n${commentMarker({ label: 'a', scope: 's' })}`,
      'a',
      false
    ],
    [
      'a legacy marker, no label',
      legacy.replace('scope: tasks', 'scope: s'),
      '',
      true
    ],
    [
      'a legacy marker, with a label',
      legacy.replace('scope: tasks', 'scope: s'),
      'a',
      false
    ],
    ['a legacy marker of another scope', legacy, '', false]
  ])('%s', (_name, body, label, expected) => {
    expect(hasMarker(body, { label, scope: 's' })).toBe(expected)
  })
})

describe('commentLinks', () => {
  const env = {
    GITHUB_SERVER_URL: 'https://github.example.com',
    GITHUB_REPOSITORY: 'org/repo',
    GITHUB_RUN_ID: '42',
    GITHUB_SHA: 'ffffffffeeee'
  }

  it('links the run and takes the pull request head commit', () => {
    expect(
      commentLinks(env, { pull_request: { head: { sha: 'abcdef123456' } } })
    ).toEqual({
      runUrl: 'https://github.example.com/org/repo/actions/runs/42',
      commit: 'abcdef1'
    })
  })

  it('falls back to GITHUB_SHA and github.com', () => {
    expect(commentLinks({ ...env, GITHUB_SERVER_URL: undefined }, {})).toEqual({
      runUrl: 'https://github.com/org/repo/actions/runs/42',
      commit: 'fffffff'
    })
  })
})

describe('renderComment', () => {
  it('puts the marker first and the run and commit under the title', () => {
    const body = renderComment(
      '## Extra Horizon tasks (staging): ✅ done\n\nrest\n',
      { label: 'staging', scope: 'tasks' },
      { runUrl: 'https://github.com/o/r/actions/runs/1', commit: 'abc1234' }
    )
    expect(body).toBe(
      `${commentMarker({ label: 'staging', scope: 'tasks' })}\n## Extra Horizon tasks (staging): ✅ done\n\n[View the run](<https://github.com/o/r/actions/runs/1>) · commit \`abc1234\`\n\nrest\n`
    )
  })

  it('stays under GitHub limit, cut after a whole line', () => {
    const summary = `## title\n${'| row |\n'.repeat(20_000)}`
    const body = renderComment(summary, { label: '', scope: 's' }, {})
    expect(body.length).toBeLessThan(65_536)
    expect(body).toMatch(
      /\| row \|\n\n… \(cut; the job's summary has it all\)$/
    )
  })
  it('keeps the plan record whole as its second line when the rest is cut', () => {
    const record = `<!-- exh-tasks-action plan {"pad":"${'x'.repeat(30_000)}"} -->`
    const summary = `## title\n${'| row |\n'.repeat(20_000)}`
    const body = renderComment(summary, { label: '', scope: 's' }, {}, record)
    expect(body.length).toBeLessThan(65_536)
    expect(body.split('\n')[1]).toBe(record)
    expect(body).toContain("(cut; the job's summary has it all)")
  })
})
