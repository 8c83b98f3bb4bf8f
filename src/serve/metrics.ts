/**
 * Prometheus metrics of one server (prom-client, on a registry of its own so that several servers
 * can live in one process): requests by route and status, latency histogram, batch sizes, queue
 * depth, requests in flight, model load time, plus prom-client's default process metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly latency: Histogram<'route'>;
  readonly batchSize: Histogram<'model'>;
  readonly batchSeconds: Histogram<'model'>;
  readonly predictions: Counter<'model'>;
  readonly inFlight: Gauge;
  readonly loadSeconds: Gauge<'model'>;
  readonly reloads: Counter<'model' | 'result'>;

  constructor(queueDepth: () => Record<string, number>) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'fleximodal_http_requests_total', help: 'HTTP requests by route template, method and status', labelNames: ['route', 'method', 'status'], registers });
    this.latency = new Histogram({
      name: 'fleximodal_http_request_duration_seconds',
      help: 'HTTP request latency by route template',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.batchSize = new Histogram({ name: 'fleximodal_batch_size', help: 'samples per forward pass', labelNames: ['model'], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], registers });
    this.batchSeconds = new Histogram({ name: 'fleximodal_batch_duration_seconds', help: 'time of one forward pass', labelNames: ['model'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers });
    this.predictions = new Counter({ name: 'fleximodal_predictions_total', help: 'samples predicted', labelNames: ['model'], registers });
    this.inFlight = new Gauge({ name: 'fleximodal_http_in_flight_requests', help: 'HTTP requests being served', registers });
    this.loadSeconds = new Gauge({ name: 'fleximodal_model_load_seconds', help: 'time to load and warm up the current version of each model', labelNames: ['model'], registers });
    this.reloads = new Counter({ name: 'fleximodal_model_reloads_total', help: 'reloads by result (reloaded / refused)', labelNames: ['model', 'result'], registers });
    new Gauge({
      name: 'fleximodal_queue_depth',
      help: 'samples waiting for a forward pass, per model',
      labelNames: ['model'],
      registers,
      collect() {
        this.reset();
        for (const [model, depth] of Object.entries(queueDepth())) this.set({ model }, depth);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'fleximodal_' });
  }

  /** A batch observer for one model's batcher. */
  batchObserver(model: string) {
    return {
      onBatch: (size: number, _requests: number, seconds: number) => {
        this.batchSize.observe({ model }, size);
        this.batchSeconds.observe({ model }, seconds);
        this.predictions.inc({ model }, size);
      },
    };
  }
}
