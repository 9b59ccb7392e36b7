/**
 * `cachet/router`: the `ConcurrentRouter` over model endpoints.
 * @example
 * import { ConcurrentRouter } from 'cachet/router';
 */
export { ConcurrentRouter } from './concurrent-router';
export type { RouteOptions, RouteResult, EndpointHealthReport, RouterEvents } from './router-types';
export type {
  RouterOptions,
  EndpointOptions,
  EndpointClient,
  EndpointRateLimit,
  RouterStrategy,
  FailureWindow,
} from './router-options';
export { MemoryRouterHealth } from './memory-router-health';
export type { MemoryRouterHealthOptions } from './memory-router-health';
export type { HealthStoreFallback } from './shared-health';
export type {
  EndpointHealthStore,
  HealthPolicy,
  SharedEndpointView,
  ProbeClaim,
  HealthFailure,
  FailureOutcome,
} from '../ports/endpoint-health';
export { RouterError, isRouterError } from './router-error';
export type { RouteAttempt, SkippedEndpoint, RouteFailure } from './router-error';
export { classifyFailure, isContextLengthError } from './classify';
export type { FailureVerdict, FailureClassifier } from './classify';
export type { EndpointState } from './endpoint-health';
export { routerFromConfig } from './router-config';
export { routerFromFile } from './router-config-file';
export type { RouterConfig, EndpointConfig, RouterFromConfigOptions, ConfiguredRouter } from './router-config';
