// The fake's schedules, dispatchers and data schemas, read through the real
// SDK as the action reads them (findAll: paged by RQL limit).

import {
  createOAuth1Client,
  NoPermissionError
} from '@extrahorizon/javascript-sdk'
import { describe, expect, it } from 'vitest'
import { startFakeExh, type FakeExh } from './fake-exh/index.js'

process.env.NO_PROXY = [process.env.NO_PROXY, 'localhost', '127.0.0.1']
  .filter(Boolean)
  .join(',')

function client(fake: FakeExh) {
  return createOAuth1Client({
    host: fake.url,
    consumerKey: fake.consumer.key,
    consumerSecret: fake.consumer.secret,
    token: fake.admin.token,
    tokenSecret: fake.admin.tokenSecret
  })
}

const gets = (fake: FakeExh, path: string) =>
  fake.requests.filter(r => r.method === 'GET' && r.path === path)

describe('fake EXH: what runs a function', () => {
  it('pages schedules by 50 at most, as findAll reads them', async () => {
    await using fake = await startFakeExh()
    for (let i = 0; i < 55; i++) fake.seedSchedule({ functionName: `fn-${i}` })
    const schedules = await client(fake).tasks.schedules.findAll({
      shouldRetry: false
    })
    expect(schedules.map(s => s.functionName)).toEqual(
      Array.from({ length: 55 }, (_, i) => `fn-${i}`)
    )
    expect(schedules[0]?.id).toMatch(/^[0-9a-f]{24}$/)
    expect(schedules[0]?.nextTimestamp).toBeInstanceOf(Date)
    const pages = gets(fake, '/tasks/v1/schedules')
    expect(pages.map(r => decodeURIComponent(r.query))).toEqual([
      'limit(50)',
      'limit(50,50)'
    ])
  })

  it('lists dispatchers with their actions, task and mail', async () => {
    await using fake = await startFakeExh()
    fake.seedDispatcher({
      name: 'on-register',
      eventType: 'user_created',
      actions: [
        { type: 'mail', templateId: 'abc' },
        { type: 'task', functionName: 'welcome' }
      ]
    })
    fake.seedDispatcher({ actions: [{ type: 'task', functionName: 'x' }] })
    const dispatchers = await client(fake).dispatchers.findAll()
    expect(dispatchers).toHaveLength(2)
    expect(dispatchers[0]).toMatchObject({
      name: 'on-register',
      eventType: 'user_created',
      actions: [
        { type: 'mail', templateId: 'abc' },
        { type: 'task', functionName: 'welcome' }
      ]
    })
    expect(dispatchers[1]?.name).toBeUndefined()
    expect(gets(fake, '/dispatchers/v1/')).toHaveLength(1)
  })

  it('lists schemas with their creation transition and transitions; disabled ones only with DISABLE_SCHEMAS', async () => {
    await using fake = await startFakeExh()
    fake.seedSchema({
      name: 'measurement',
      creationAfterActions: [{ type: 'task', functionName: 'ingest' }],
      transitions: [
        {
          name: 'analyze',
          actions: [{ type: 'set', field: 'x', value: 1 }],
          afterActions: [{ type: 'task', functionName: 'analyze-fn' }]
        }
      ]
    })
    fake.seedSchema({ name: 'old', disabled: true })
    const sdk = client(fake)
    const schemas = await sdk.data.schemas.findAll()
    expect(schemas.map(s => s.name)).toEqual(['measurement'])
    expect(schemas[0]?.creationTransition.afterActions).toEqual([
      { type: 'task', functionName: 'ingest' }
    ])
    expect(schemas[0]?.transitions[0]).toMatchObject({
      name: 'analyze',
      afterActions: [{ type: 'task', functionName: 'analyze-fn' }]
    })
    const role = [...fake.roles.values()].find(r => r.name === 'fake-exh-admin')
    role?.permissions.push('DISABLE_SCHEMAS')
    const all = await sdk.data.schemas.findAll()
    expect(all.map(s => s.name)).toEqual(['measurement', 'old'])
  })

  it.each([
    [
      'VIEW_TASK_SCHEDULES',
      (fake: FakeExh) =>
        client(fake).tasks.schedules.findAll({ shouldRetry: false })
    ],
    [
      'VIEW_DISPATCHERS',
      (fake: FakeExh) =>
        client(fake).dispatchers.findAll({ shouldRetry: false })
    ]
  ])(
    'answers 401 / 10 NO_PERMISSION_EXCEPTION without %s',
    async (permission, read) => {
      await using fake = await startFakeExh()
      fake.revokeAdminPermission(permission)
      const error = await read(fake).then(
        () => undefined,
        (e: unknown) => e
      )
      expect(error).toBeInstanceOf(NoPermissionError)
      expect(error).toMatchObject({
        status: 401,
        response: { code: 10, name: 'NO_PERMISSION_EXCEPTION' }
      })
    }
  )
})
