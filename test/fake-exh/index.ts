/**
 * A local fake of the Extra Horizon HTTP API for tests and the demo: the
 * real SDK talks to it over HTTP (`host: fake.url`, a localhost URL).
 *
 *   await using fake = await startFakeExh()
 *   const sdk = createOAuth1Client({ host: fake.url,
 *     consumerKey: fake.consumer.key, consumerSecret: fake.consumer.secret,
 *     token: fake.admin.token, tokenSecret: fake.admin.tokenSecret })
 *   fake.fault({ method: 'PUT', status: 503 })
 *
 * As a separate process: `node --import tsx test/fake-exh/cli.ts`.
 */
export {
  startFakeExh,
  placeholderZip,
  type FakeAdmin,
  type FakeExh,
  type FakeExhOptions,
  type LoggedRequest
} from './server.js'
export type { FaultRule } from './faults.js'
export type {
  FakeRole,
  FakeToken,
  FakeUser,
  FunctionDetails,
  NewUser,
  StoredFunction
} from './state.js'
export { exhErrorBody, knownErrors, type ExhErrorBody } from './errors.js'
export { runtimes, maxEnvironmentBytes } from './functions.js'
export type {
  FakeAction,
  FakeDispatcher,
  FakeSchedule,
  FakeSchema,
  NewDispatcher,
  NewSchedule,
  NewSchema
} from './references.js'
