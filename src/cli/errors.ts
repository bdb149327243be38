/** The CLI's view of the error model: exit codes come from the one table in base/error-codes.ts. */
import { LifeboatError, type ErrorCode } from '../base/errors.js';

export { ExitCode, exitCodeOf, messageOf, errorDocument } from '../base/error-codes.js';
export { LifeboatError, UsageError } from '../base/errors.js';

/**
 * A command printed its result (a backup's snapshot, a check's report) and the outcome is still a
 * failure: the code sets the exit code, and no error document follows the result on stdout.
 */
export class OutcomeError extends LifeboatError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
  }
}
