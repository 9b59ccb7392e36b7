import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Cache } from '../../lib';
import { instrument } from '../../lib/otel';

// The metrics as a Prometheus server scrapes them: the SDK's Prometheus exporter served over HTTP on
// 127.0.0.1, read with an HTTP GET of /metrics.

describe('cachet/otel scraped by Prometheus', () => {
  let exporter: PrometheusExporter;
  let meterProvider: MeterProvider;
  let server: Server;
  let url: string;

  beforeEach(async () => {
    exporter = new PrometheusExporter({ preventServerStart: true });
    meterProvider = new MeterProvider({ readers: [exporter] });
    server = createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await meterProvider.shutdown();
  });

  it('exposes the cache counters and the fill histogram under their Prometheus names', async () => {
    const cache = new Cache({ namespace: 'faq' });
    const answer = cache.wrap(async (question: string) => `answer to ${question}`, { name: 'Faq.answer' });
    const stop = instrument({ caches: [cache], meterProvider });
    await answer('refunds');
    for (let i = 0; i < 42; i++) await answer('refunds');
    await Promise.all([answer('shipping'), answer('shipping')]);

    const response = await fetch(url);
    expect(response.status).toBe(200);
    const text = await response.text();
    // The exporter appends `_total` to counters and the instrumentation scope as a label; it keeps
    // histogram names as they are (no unit suffix).
    const sample = (name: string, labels: string, value: number): string =>
      `${name}{cachet_namespace="faq",cachet_method="Faq.answer"${labels},otel_scope_name="cachet"} ${value}\n`;
    expect(text).toContain('# TYPE cachet_cache_lookups_total counter');
    expect(text).toContain(sample('cachet_cache_lookups_total', ',cachet_result="hit"', 42));
    expect(text).toContain(sample('cachet_cache_lookups_total', ',cachet_result="miss"', 3));
    expect(text).toContain(sample('cachet_cache_lookups_total', ',cachet_result="semantic_hit"', 0));
    expect(text).toContain(sample('cachet_cache_coalesced_total', '', 1));
    expect(text).toContain(sample('cachet_cache_fills_total', '', 2));
    expect(text).toContain(sample('cachet_cache_errors_total', ',error_type="store"', 0));
    expect(text).toContain('# TYPE cachet_cache_fill_duration histogram');
    expect(text).toContain(sample('cachet_cache_fill_duration_count', ',cachet_stored="true"', 2));
    stop();
  });
});
