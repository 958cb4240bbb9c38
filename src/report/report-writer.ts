// The report files on disk (SPEC section 11): a fresh folder under
// RUNNER_TEMP that only the runner's user can read, holding the JSON, its
// Markdown and the checksums of the zips uploaded. The content is built by
// report-files.ts; this module only writes it.

import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import {
  checksumsText,
  renderReportMarkdown,
  type DeploymentReport
} from './report-files.js'

const REPORT_JSON = 'exh-tasks-report.json'
const REPORT_MARKDOWN = 'exh-tasks-report.md'
const CHECKSUMS = 'exh-tasks-checksums.txt'

export interface WrittenReport {
  /** The folder: output `report-path`. */
  folder: string
  /** The checksums file: output `checksums-path`. */
  checksums: string
}

/**
 * Writes the three files into a new, uniquely named folder (mode 0700, as
 * `mkdtemp` makes it; files 0600): a re-run or a second step of the same
 * job never overwrites an earlier report.
 */
export async function writeReportFiles(
  doc: DeploymentReport,
  runnerTemp: string | undefined
): Promise<WrittenReport> {
  const folder = await mkdtemp(
    path.join(runnerTemp || tmpdir(), 'exh-tasks-report-')
  )
  const write = (name: string, text: string): Promise<void> =>
    writeFile(path.join(folder, name), text, { mode: 0o600, flag: 'wx' })
  await write(REPORT_JSON, `${JSON.stringify(doc, null, 2)}\n`)
  await write(REPORT_MARKDOWN, renderReportMarkdown(doc))
  await write(CHECKSUMS, checksumsText(doc))
  return { folder, checksums: path.join(folder, CHECKSUMS) }
}
