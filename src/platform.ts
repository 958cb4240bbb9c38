/**
 * Windows runners are refused: file modes and line endings would make the
 * packages (and so the fingerprints) differ from those built on Linux/macOS.
 */
export function unsupportedPlatform(
  platform: NodeJS.Platform
): string | undefined {
  return platform === 'win32'
    ? 'Windows runners are not supported: file modes and line endings would make packages differ between runners. Use a Linux or macOS runner (runs-on: ubuntu-latest).'
    : undefined
}
