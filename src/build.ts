import * as path from 'node:path'
import type { ConfigProblem, TaskDefinition } from './task.js'
import { checkTaskCodeFolder } from './config.js'

/** Runs a shell command in a folder; resolves with its exit code. */
export type RunCommand = (
  command: string,
  cwd: string,
  title: string
) => Promise<number>

/**
 * The `build-command` input, run in each selected task's config folder (the
 * workspace for a task given by inputs alone) before its code is
 * fingerprinted. One at a time, so each build's output reads as one block;
 * a failing build fails the run before any write, like a config error.
 */
export async function buildTasks(
  tasks: readonly TaskDefinition[],
  command: string,
  workspace: string,
  run: RunCommand
): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = []
  for (const task of tasks) {
    const cwd = task.configFile
      ? path.join(workspace, path.dirname(task.configFile))
      : workspace
    const code = await run(command, cwd, `build ${task.name}`)
    if (code !== 0) {
      problems.push({
        file: task.configFile,
        field: 'build-command',
        rule: `exited with code ${code} in ${path.relative(workspace, cwd) || '.'}`,
        task: task.name
      })
      continue
    }
    // The code folder may only exist now that the build has run.
    const missing = await checkTaskCodeFolder(task, workspace)
    if (missing) problems.push(missing)
  }
  return problems
}
