/**
 * The inference gateway's public surface, for the CLI (`lifeboat gateway`, `lifeboat serve`) and for the
 * lead's full lifeboat.yaml schema. See docs/gateway.md.
 */
export { gatewaySectionSchema, normaliseGatewayConfig, type GatewayConfig, type GatewaySection } from './config.js';
export { loadGatewayConfig, parseGatewayConfig } from './load-config.js';
export { startGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { GatewayError, GatewayConfigError, GatewayListenError, type ConfigIssue } from './errors.js';
