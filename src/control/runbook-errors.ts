/** The error of a runbook step that did not do its job. */
import { LifeboatError } from '../base/errors.js';

/** The message says what went wrong and, where there is one, what to do; `output` is the end of what the step printed. */
export class StepFailedError extends LifeboatError {
  constructor(message: string, readonly output = '') {
    super('STEP_FAILED', message);
  }
}
