// The Prometheus configuration the launcher writes: one scrape job per target job name, built
// from scrape URLs. Pure: files the configuration refers to (CA bundles) are named, not written.

export interface ScrapeTls {
  /** Accepts any serving certificate: for loopback targets with self-signed certificates. */
  insecureSkipVerify?: boolean;
  /** A PEM file of the CA(s) that signed the target's serving certificate. */
  caFile?: string;
  /** The name to verify the serving certificate against, when it is not the URL's host. */
  serverName?: string;
}

export interface ScrapeTarget {
  /** The `job` label of the target's series; targets sharing a job must share scheme, path and TLS. */
  job: string;
  /** The URL Prometheus scrapes, e.g. http://127.0.0.1:9443/metrics or https://... */
  url: string;
  /** TLS settings for an https URL. */
  tls?: ScrapeTls;
}

export interface PrometheusConfigOptions {
  targets: readonly ScrapeTarget[];
  scrapeIntervalSeconds: number;
  /** How often rules are evaluated. */
  evaluationIntervalSeconds: number;
  /** Rule files loaded as they are. */
  ruleFiles?: readonly string[];
}

interface ScrapeConfig {
  job_name: string;
  scheme: "http" | "https";
  metrics_path: string;
  params?: Record<string, string[]>;
  tls_config?: { insecure_skip_verify?: boolean; ca_file?: string; server_name?: string };
  static_configs: { targets: string[] }[];
}

export interface PrometheusConfig {
  global: { scrape_interval: string; scrape_timeout: string; evaluation_interval: string };
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
}

/** The configuration for these targets; throws on a URL Prometheus cannot scrape as given. */
export function prometheusConfig(options: PrometheusConfigOptions): PrometheusConfig {
  const byJob = new Map<string, ScrapeConfig>();
  for (const target of options.targets) {
    const config = scrapeConfigOf(target);
    const existing = byJob.get(target.job);
    if (!existing) {
      byJob.set(target.job, config);
      continue;
    }
    const { static_configs: _ignored, ...shape } = config;
    const { static_configs: existingTargets, ...existingShape } = existing;
    if (JSON.stringify(shape) !== JSON.stringify(existingShape)) {
      throw new Error(
        `targets of job ${JSON.stringify(target.job)} differ in scheme, path, query or TLS (${target.url})`,
      );
    }
    existingTargets[0]!.targets.push(...config.static_configs[0]!.targets);
  }
  const interval = positiveSeconds(options.scrapeIntervalSeconds, "scrapeIntervalSeconds");
  return {
    global: {
      scrape_interval: `${interval}s`,
      // A scrape may take the whole interval but no longer (Prometheus refuses a longer timeout).
      scrape_timeout: `${interval}s`,
      evaluation_interval: `${positiveSeconds(options.evaluationIntervalSeconds, "evaluationIntervalSeconds")}s`,
    },
    rule_files: [...(options.ruleFiles ?? [])],
    scrape_configs: [...byJob.values()],
  };
}

function scrapeConfigOf(target: ScrapeTarget): ScrapeConfig {
  if (!/^[a-zA-Z0-9_.:/-]+$/.test(target.job))
    throw new Error(`invalid job name ${JSON.stringify(target.job)}`);
  let url: URL;
  try {
    url = new URL(target.url);
  } catch (error) {
    throw new Error(`invalid scrape URL ${JSON.stringify(target.url)}`, { cause: error });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`scrape URL ${target.url} is not http or https`);
  if (url.username || url.password) throw new Error(`scrape URL ${target.url} carries credentials`);
  if (url.hash) throw new Error(`scrape URL ${target.url} has a fragment`);
  if (target.tls && url.protocol !== "https:")
    throw new Error(`TLS settings for the plain-http URL ${target.url}`);
  const scheme = url.protocol === "https:" ? "https" : "http";
  const port = url.port || (scheme === "https" ? "443" : "80");
  const config: ScrapeConfig = {
    job_name: target.job,
    scheme,
    metrics_path: url.pathname,
    static_configs: [{ targets: [`${url.hostname}:${port}`] }],
  };
  const params: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) (params[key] ??= []).push(value);
  if (Object.keys(params).length > 0) config.params = params;
  if (target.tls) {
    const tls: NonNullable<ScrapeConfig["tls_config"]> = {};
    if (target.tls.insecureSkipVerify) tls.insecure_skip_verify = true;
    if (target.tls.caFile) tls.ca_file = target.tls.caFile;
    if (target.tls.serverName) tls.server_name = target.tls.serverName;
    config.tls_config = tls;
  }
  return config;
}

function positiveSeconds(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive whole number of seconds`);
  return value;
}
