import { metrics, trace, type Meter, type MeterProvider, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { assertKnownOptions, assertPlainObject, optionError } from '../core/validate';
import { INSTRUMENTATION_SCOPE } from './names';

/** Where telemetry goes; every `instrument*` function takes these. */
export interface OtelOptions {
  /** The meter provider metrics go to. @default the global one (`metrics.setGlobalMeterProvider`) */
  readonly meterProvider?: MeterProvider;
  /** The tracer provider spans go to. @default the global one (`trace.setGlobalTracerProvider`) */
  readonly tracerProvider?: TracerProvider;
}

export const OTEL_OPTIONS = ['meterProvider', 'tracerProvider'] as const;

/** Checks `options` of `where` (a plain object with only `known` keys and valid providers). */
export function assertOtelOptions(where: string, options: unknown, known: readonly string[]): void {
  assertPlainObject(where, options);
  assertKnownOptions(where, options as object, [...OTEL_OPTIONS, ...known]);
  const { meterProvider, tracerProvider } = options as OtelOptions;
  if (meterProvider !== undefined && typeof meterProvider.getMeter !== 'function')
    throw optionError('meterProvider', 'a MeterProvider (from @opentelemetry/sdk-metrics)', meterProvider);
  if (tracerProvider !== undefined && typeof tracerProvider.getTracer !== 'function')
    throw optionError('tracerProvider', 'a TracerProvider (from @opentelemetry/sdk-trace-base)', tracerProvider);
}

export function meterOf(options: OtelOptions): Meter {
  return (options.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_SCOPE);
}

export function tracerOf(options: OtelOptions): Tracer {
  return (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_SCOPE);
}

/** Checks that `value` has the methods an instrumented object needs; else a TypeError naming `expected`. */
export function assertShape(name: string, value: unknown, expected: string, methods: readonly string[]): void {
  const ok =
    typeof value === 'object' &&
    value !== null &&
    methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
  if (!ok) throw optionError(name, expected, value);
}

/**
 * The `error.type` of a failure, as the OpenTelemetry conventions ask: the HTTP status of a provider's
 * answer (`429`), else the error's `code` (`ERR_CACHET_STORE_TIMEOUT`), else its class name.
 */
export function errorType(error: unknown): string {
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number') return String(status);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  if (error instanceof Error) return error.name;
  return '_OTHER';
}
