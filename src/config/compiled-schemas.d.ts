// The types of compiled-schemas.js, which scripts/compile-schemas.mjs
// generates from schema/ (npm run build).
import type { ValidateFunction } from 'ajv'

/** schema/task-config.schema.json, compiled. */
export declare const validateTaskConfig: ValidateFunction
/** schema/task-verify.schema.json, compiled. */
export declare const validateTaskVerify: ValidateFunction
