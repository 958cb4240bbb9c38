// The runtimes a task may name, read from the shipped config schema.

import schema from '../schema/task-config.schema.json' with { type: 'json' }

/**
 * The runtimes the CLI accepts. The list lives in the schema (with its date),
 * so editors, validation and the `runtime` input all agree.
 */
export const RUNTIMES: readonly string[] = schema.properties.runtime.enum
