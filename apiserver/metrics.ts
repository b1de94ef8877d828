// Prometheus metrics of the API server, hand-rolled to stay tiny and allocation-free on the
// hot path: apiserver_request_total{verb,group,resource,code} and
// apiserver_request_duration_seconds{verb,group,resource} (a histogram), plus the number of
// open watches. Names follow upstream's apiserver metrics.

const BUCKETS_S = [0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface Histogram {
  labels: string;
  counts: number[];
  sum: number;
  count: number;
}

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export class ApiMetrics {
  private readonly requests = new Map<string, number>();
  private readonly durations = new Map<string, Histogram>();
  private watches = 0;

  /** observe records one finished request (watches: when the stream starts). */
  observe(verb: string, group: string, resource: string, code: number, seconds: number): void {
    const base = `verb="${verb}",group="${esc(group)}",resource="${esc(resource)}"`;
    const key = `${base},code="${code}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    if (verb === "WATCH") return; // a watch's duration is its lifetime, not latency
    let h = this.durations.get(base);
    if (!h) {
      h = { labels: base, counts: new Array<number>(BUCKETS_S.length).fill(0), sum: 0, count: 0 };
      this.durations.set(base, h);
    }
    for (let i = 0; i < BUCKETS_S.length; i++) {
      if (seconds <= (BUCKETS_S[i] as number)) h.counts[i] = (h.counts[i] ?? 0) + 1;
    }
    h.sum += seconds;
    h.count++;
  }

  watchStarted(): void {
    this.watches++;
  }

  watchEnded(): void {
    this.watches--;
  }

  /** render returns the Prometheus text exposition format (version 0.0.4). */
  render(): string {
    const out: string[] = [
      "# HELP apiserver_request_total Counter of apiserver requests broken out by verb, group, resource and HTTP code.",
      "# TYPE apiserver_request_total counter",
    ];
    for (const [labels, n] of this.requests) out.push(`apiserver_request_total{${labels}} ${n}`);
    out.push(
      "# HELP apiserver_request_duration_seconds Response latency distribution in seconds for each verb, group and resource.",
      "# TYPE apiserver_request_duration_seconds histogram",
    );
    for (const h of this.durations.values()) {
      BUCKETS_S.forEach((le, i) => {
        out.push(`apiserver_request_duration_seconds_bucket{${h.labels},le="${le}"} ${h.counts[i] ?? 0}`);
      });
      out.push(`apiserver_request_duration_seconds_bucket{${h.labels},le="+Inf"} ${h.count}`);
      out.push(`apiserver_request_duration_seconds_sum{${h.labels}} ${h.sum}`);
      out.push(`apiserver_request_duration_seconds_count{${h.labels}} ${h.count}`);
    }
    out.push(
      "# HELP apiserver_longrunning_requests Number of open watch requests.",
      "# TYPE apiserver_longrunning_requests gauge",
      `apiserver_longrunning_requests{verb="WATCH"} ${this.watches}`,
      "# HELP process_resident_memory_bytes Resident memory size in bytes.",
      "# TYPE process_resident_memory_bytes gauge",
      `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
    );
    return `${out.join("\n")}\n`;
  }
}
