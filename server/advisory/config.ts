/**
 * The advisory stages' settings and the rule reviewer's limits (issue 8): the schema lives in the
 * engine's configuration (`guards.reviewer.advisory`), so that a preset can set them.
 */
export { AdvisoryConfig } from "../engine/advisory-config";
export type { AdvisoryConfigInput } from "../engine/advisory-config";
