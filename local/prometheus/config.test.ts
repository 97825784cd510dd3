import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { prometheusConfig, type ScrapeTarget } from "./config.ts";

const base = { scrapeIntervalSeconds: 2, evaluationIntervalSeconds: 3 };

describe("prometheusConfig", () => {
  const cases: { name: string; targets: ScrapeTarget[]; want: unknown }[] = [
    {
      name: "a plain-http target: host, default path of the URL, no TLS",
      targets: [{ job: "bosun-hub", url: "http://127.0.0.1:9443/metrics" }],
      want: [
        {
          job_name: "bosun-hub",
          scheme: "http",
          metrics_path: "/metrics",
          static_configs: [{ targets: ["127.0.0.1:9443"] }],
        },
      ],
    },
    {
      name: "an https target with a CA file and a server name",
      targets: [
        {
          job: "bosun-hub",
          url: "https://127.0.0.1:9443/metrics",
          tls: { caFile: "/tmp/ca.pem", serverName: "bosun-hub.svc" },
        },
      ],
      want: [
        {
          job_name: "bosun-hub",
          scheme: "https",
          metrics_path: "/metrics",
          static_configs: [{ targets: ["127.0.0.1:9443"] }],
          tls_config: { ca_file: "/tmp/ca.pem", server_name: "bosun-hub.svc" },
        },
      ],
    },
    {
      name: "an https target without verification, on the default port",
      targets: [{ job: "hub", url: "https://localhost/custom/path", tls: { insecureSkipVerify: true } }],
      want: [
        {
          job_name: "hub",
          scheme: "https",
          metrics_path: "/custom/path",
          static_configs: [{ targets: ["localhost:443"] }],
          tls_config: { insecure_skip_verify: true },
        },
      ],
    },
    {
      name: "query parameters become params, repeated keys kept",
      targets: [
        { job: "federate", url: "http://[::1]:9090/federate?match[]=up&match[]=policy_governance_info" },
      ],
      want: [
        {
          job_name: "federate",
          scheme: "http",
          metrics_path: "/federate",
          params: { "match[]": ["up", "policy_governance_info"] },
          static_configs: [{ targets: ["[::1]:9090"] }],
        },
      ],
    },
    {
      name: "targets of one job share its scrape config; other jobs get their own",
      targets: [
        { job: "agents", url: "http://127.0.0.1:8001/metrics" },
        { job: "hub", url: "http://127.0.0.1:9443/metrics" },
        { job: "agents", url: "http://127.0.0.1:8002/metrics" },
      ],
      want: [
        {
          job_name: "agents",
          scheme: "http",
          metrics_path: "/metrics",
          static_configs: [{ targets: ["127.0.0.1:8001", "127.0.0.1:8002"] }],
        },
        {
          job_name: "hub",
          scheme: "http",
          metrics_path: "/metrics",
          static_configs: [{ targets: ["127.0.0.1:9443"] }],
        },
      ],
    },
  ];
  for (const { name, targets, want } of cases) {
    test(name, () => {
      assert.deepEqual(prometheusConfig({ ...base, targets }).scrape_configs, want);
    });
  }

  test("intervals and rule files go into global and rule_files", () => {
    const config = prometheusConfig({ ...base, targets: [], ruleFiles: ["/repo/rules.yaml"] });
    assert.deepEqual(config.global, {
      scrape_interval: "2s",
      scrape_timeout: "2s",
      evaluation_interval: "3s",
    });
    assert.deepEqual(config.rule_files, ["/repo/rules.yaml"]);
  });

  const refusals: { name: string; targets: ScrapeTarget[]; message: RegExp; intervals?: typeof base }[] = [
    { name: "not a URL", targets: [{ job: "j", url: "127.0.0.1:9443" }], message: /invalid scrape URL/ },
    {
      name: "another scheme",
      targets: [{ job: "j", url: "ftp://127.0.0.1/metrics" }],
      message: /not http or https/,
    },
    {
      name: "credentials in the URL",
      targets: [{ job: "j", url: "http://user:secret@127.0.0.1/metrics" }],
      message: /carries credentials/,
    },
    { name: "a fragment", targets: [{ job: "j", url: "http://127.0.0.1/metrics#x" }], message: /fragment/ },
    {
      name: "TLS settings on plain http",
      targets: [{ job: "j", url: "http://127.0.0.1/metrics", tls: { insecureSkipVerify: true } }],
      message: /plain-http/,
    },
    {
      name: "a job name with spaces",
      targets: [{ job: "my job", url: "http://h/metrics" }],
      message: /invalid job/,
    },
    {
      name: "one job, two paths",
      targets: [
        { job: "j", url: "http://127.0.0.1:1/metrics" },
        { job: "j", url: "http://127.0.0.1:2/other" },
      ],
      message: /differ in scheme, path, query or TLS/,
    },
    {
      name: "one job, http and https",
      targets: [
        { job: "j", url: "http://127.0.0.1:1/metrics" },
        { job: "j", url: "https://127.0.0.1:2/metrics", tls: { insecureSkipVerify: true } },
      ],
      message: /differ in scheme/,
    },
    {
      name: "a fractional scrape interval",
      targets: [],
      intervals: { scrapeIntervalSeconds: 0.5, evaluationIntervalSeconds: 1 },
      message: /scrapeIntervalSeconds must be a positive whole number/,
    },
    {
      name: "a zero evaluation interval",
      targets: [],
      intervals: { scrapeIntervalSeconds: 1, evaluationIntervalSeconds: 0 },
      message: /evaluationIntervalSeconds must be a positive whole number/,
    },
  ];
  for (const { name, targets, message, intervals } of refusals) {
    test(`refuses ${name}`, () => {
      assert.throws(() => prometheusConfig({ ...(intervals ?? base), targets }), message);
    });
  }
});
