import { LifeboatError, type ErrorCode } from '../base/errors.js';
import type { ConfigIssue } from '../control/config-error.js';

export type { ConfigIssue };

/** Typed errors of the gateway. `code` is stable for scripts and exit-code mapping; the message is for people. */

export class GatewayError extends LifeboatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GATEWAY', message, options);
  }
}

/** The configuration file is missing, is not YAML, or its `gateway:` section is invalid. */
export class GatewayConfigError extends GatewayError {
  override readonly code: ErrorCode = 'GATEWAY_CONFIG';
  constructor(message: string, readonly issues: readonly ConfigIssue[] = [], options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The gateway could not bind its listen address (in use, no permission, bad host). */
export class GatewayListenError extends GatewayError {
  override readonly code: ErrorCode = 'GATEWAY_LISTEN';
}

/** An admin request named an upstream or group the configuration does not have. */
export class UnknownTargetError extends GatewayError {
  override readonly code: ErrorCode = 'GATEWAY_UNKNOWN_TARGET';
}

/** An admin request asked for something the configuration forbids (e.g. a degraded group as primary). */
export class InvalidAdminRequestError extends GatewayError {
  override readonly code: ErrorCode = 'GATEWAY_INVALID_REQUEST';
}
