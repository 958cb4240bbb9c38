// What a walk of a code folder gives: its entries, as the fingerprint and
// the zip both read them. Types only, so every module of the read pass can
// name them without importing the walk.

export interface CodeEntry {
  /** POSIX path relative to the code folder, without a trailing `/`. */
  path: string
  type: 'file' | 'directory' | 'symlink'
  /**
   * Permission bits with setuid/setgid/sticky (`0o4755`), as the zip keeps
   * them; always `0o777` for a symlink. The fingerprint hashes only the
   * `0o777` part, as it always has (see `Fingerprint`).
   */
  mode: number
  /** Bytes of a file, of a link's target; 0 for a directory. */
  size: number
  /** A symlink's target as stored in the zip: relative, or as read when it already was. */
  linkTarget?: string
}

/** A code folder walked once: what fingerprinting and packaging both read. */
export interface WalkedFolder {
  /** Absolute path of the code folder. */
  root: string
  /** Sorted by the UTF-8 bytes of `path`; a folder comes before its contents. */
  entries: CodeEntry[]
  /** Files and symlinks (what the zip holds besides folders). */
  files: number
  warnings: string[]
}

export interface CodeFolder extends WalkedFolder {
  /** Hex sha256 of paths, types, modes, file bytes and link targets. */
  fingerprint: string
}
