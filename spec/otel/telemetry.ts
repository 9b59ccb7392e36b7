import { context, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** A reader the test collects from when it chooses: no timer, no export interval. */
class CollectingReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The real OpenTelemetry SDK, in memory: a meter provider with a reader collected on demand, a tracer
 * provider exporting to an in-memory exporter through a simple processor, and the async-hooks context
 * manager (so active spans follow awaits, as in an application with the Node SDK).
 */
export class Telemetry {
  readonly reader = new CollectingReader();
  readonly meterProvider = new MeterProvider({ readers: [this.reader] });
  readonly spans = new InMemorySpanExporter();
  readonly tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.spans)] });
  readonly #contextManager = new AsyncLocalStorageContextManager();

  constructor() {
    context.setGlobalContextManager(this.#contextManager.enable());
  }

  /** Every metric of the last collection, by name. */
  async collect(): Promise<Map<string, MetricData>> {
    const { resourceMetrics, errors } = await this.reader.collect();
    if (errors.length > 0) throw new Error(`collection failed: ${errors.map(String).join('; ')}`);
    const byName = new Map<string, MetricData>();
    for (const scope of resourceMetrics.scopeMetrics)
      for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
    return byName;
  }

  finished(): ReadableSpan[] {
    return this.spans.getFinishedSpans();
  }

  async close(): Promise<void> {
    await this.meterProvider.shutdown();
    await this.tracerProvider.shutdown();
    context.disable();
  }
}

/** The points of `metric` whose attributes include `match`. */
export function pointsOf(metrics: Map<string, MetricData>, name: string, match: Attributes = {}): DataPoint<unknown>[] {
  const metric = metrics.get(name);
  if (metric === undefined) throw new Error(`no metric ${name}; got ${[...metrics.keys()].join(', ')}`);
  return (metric.dataPoints as DataPoint<unknown>[]).filter((point) =>
    Object.entries(match).every(([key, value]) => point.attributes[key] === value),
  );
}

/** The value of the one point of a sum or gauge with exactly these attributes (undefined when none). */
export function valueOf(metrics: Map<string, MetricData>, name: string, attributes: Attributes): number | undefined {
  const metric = metrics.get(name);
  if (metric === undefined) throw new Error(`no metric ${name}; got ${[...metrics.keys()].join(', ')}`);
  if (metric.dataPointType === DataPointType.HISTOGRAM) throw new Error(`${name} is a histogram`);
  const point = (metric.dataPoints as DataPoint<number>[]).find(
    (p) => JSON.stringify(sorted(p.attributes)) === JSON.stringify(sorted(attributes)),
  );
  return point?.value;
}

/** The number of recordings of a histogram over the points whose attributes include `match`. */
export function countOf(metrics: Map<string, MetricData>, name: string, match: Attributes = {}): number {
  return pointsOf(metrics, name, match).reduce((n, point) => n + (point.value as Histogram).count, 0);
}

function sorted(attributes: Attributes): [string, unknown][] {
  return Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1));
}
