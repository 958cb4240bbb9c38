import { describe, expect, it } from 'vitest'
import { unsupportedPlatform } from '../src/platform.js'

describe('unsupportedPlatform', () => {
  it.each<[NodeJS.Platform, boolean]>([
    ['linux', false],
    ['darwin', false],
    ['win32', true]
  ])('%s refused: %s', (platform, refused) => {
    expect(unsupportedPlatform(platform) !== undefined).toBe(refused)
  })

  it('says why and what to use instead', () => {
    expect(unsupportedPlatform('win32')).toMatch(
      /file modes and line endings.*Linux or macOS/
    )
  })
})
