/** Errors of lifeboat.yaml, apart from its parser, so that the CLI can know them without loading it. */
import { LifeboatError } from '../base/errors.js';

/** One problem in lifeboat.yaml, located by file, line and key path. */
export interface ConfigIssue {
  readonly file: string;
  readonly line: number | undefined;
  readonly key: string;
  readonly message: string;
}

/** The file cannot be read, is not YAML, or a section is invalid. */
export class ConfigError extends LifeboatError {
  constructor(message: string, readonly issues: readonly ConfigIssue[] = [], options?: { cause?: unknown }) {
    super('CONFIG', message, options);
  }
}
