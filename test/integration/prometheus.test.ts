// bosun's Prometheus rules and Grafana dashboard, checked by a real Prometheus and promtool
// (fetched by `npm run build:prometheus`): promtool accepts the rules and their unit tests prove
// the alerts fire; every dashboard query parses; and a Prometheus started by the launcher scrapes
// policy_governance_info over TLS from a stand-in hub, evaluates the shipped rules unchanged, and
// follows the served compliance as it changes.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { MetricLabels, Metrics, MetricValues } from "../../api/constants.ts";
import {
  defaultPrometheusCacheRoot,
  prometheusBinaries,
  runPromtool,
} from "../../local/prometheus/binaries.ts";
import { startPrometheus, type RunningPrometheus } from "../../local/prometheus/launcher.ts";
import type { Sample } from "../../local/prometheus/query.ts";
import { createCertificateAuthority, issueCertificate } from "../../runtime/pki.ts";

const repo = resolve(import.meta.dirname, "..", "..");
const rulesFile = join(repo, "deploy", "prometheus", "bosun-rules.yaml");
const rulesTestFile = join(repo, "deploy", "prometheus", "bosun-rules.test.yaml");
const dashboardFile = join(repo, "deploy", "grafana", "bosun-fleet-compliance.json");
const hubJob = "bosun-hub";
const untrustedJob = "untrusted-hub";
const waitMs = 60_000;

const binaries = await prometheusBinaries({ cacheRoot: defaultPrometheusCacheRoot(process.env) });

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
const rules = parse(await readFile(rulesFile, "utf8")) as RuleFile;
const allRules = rules.groups.flatMap((group) => group.rules);
const recordedNames = allRules.flatMap((rule) => (rule.record ? [rule.record] : []));
const alertNames = allRules.flatMap((rule) => (rule.alert ? [rule.alert] : []));

// ---------------------------------------------------------------------------------------------
// The dashboard's queries

interface DashboardTarget {
  expr: string;
  datasource?: { uid?: string };
}
interface Dashboard {
  schemaVersion: number;
  templating: { list: { name: string; type: string; query: unknown; datasource?: { uid?: string } }[] };
  panels: { title: string; datasource?: { uid?: string }; targets?: DashboardTarget[] }[];
}
const dashboard = JSON.parse(await readFile(dashboardFile, "utf8")) as Dashboard;

/** Every PromQL expression of the dashboard, with where it comes from: panel targets and variable queries. */
function dashboardExpressions(): { where: string; expr: string }[] {
  const found: { where: string; expr: string }[] = [];
  for (const panel of dashboard.panels)
    for (const target of panel.targets ?? [])
      found.push({ where: `panel ${panel.title}`, expr: target.expr });
  for (const variable of dashboard.templating.list) {
    if (variable.type !== "query") continue;
    const query = (variable.query as { query: string }).query;
    const labelValues = /^label_values\((.*),\s*\w+\)$/s.exec(query);
    assert.ok(labelValues, `variable ${variable.name}: ${query} is not label_values(<selector>, <label>)`);
    found.push({ where: `variable ${variable.name}`, expr: labelValues[1]! });
  }
  return found;
}

/** Fills in the dashboard's variables ($name or ${name}); an unknown variable fails the test. */
function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const value = values[name];
    assert.ok(value !== undefined, `${expr} uses the unknown variable ${whole}`);
    return value;
  });
}

const everything = { policy_namespace: ".*", policy: ".*" };
const onePolicy = { policy_namespace: "policies", policy: "require-labels" };

/** The names of the series a PromQL expression selects (`name{...}`). */
function selectedMetrics(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)].map((match) => match[1]!);
}

describe("bosun's Prometheus rules", () => {
  test("promtool check rules accepts every rule", async () => {
    const result = await runPromtool(binaries, ["check", "rules", rulesFile]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`SUCCESS: ${allRules.length} rules found`));
    assert.ok(
      recordedNames.length >= 5 && alertNames.length >= 5,
      "the file holds recording and alerting rules",
    );
  });

  test("promtool test rules proves each alert fires on its series and stays quiet before", async () => {
    const unitTests = parse(await readFile(rulesTestFile, "utf8")) as {
      rule_files: string[];
      tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
    };
    assert.deepEqual(
      unitTests.rule_files,
      ["bosun-rules.yaml"],
      "the unit tests load the shipped file unchanged",
    );
    const cases = unitTests.tests.flatMap((unit) => unit.alert_rule_test ?? []);
    for (const alert of alertNames) {
      const mine = cases.filter((entry) => entry.alertname === alert);
      assert.ok(
        mine.some((entry) => (entry.exp_alerts ?? []).length > 0),
        `no unit test shows ${alert} firing`,
      );
      assert.ok(
        mine.some((entry) => (entry.exp_alerts ?? []).length === 0),
        `no unit test shows ${alert} quiet`,
      );
    }
    const result = await runPromtool(binaries, ["test", "rules", rulesTestFile]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /SUCCESS/);
  });
});

describe("bosun's Grafana dashboard", () => {
  test("is a current dashboard whose every query goes to the chosen data source", () => {
    assert.ok(dashboard.schemaVersion >= 36, `schemaVersion ${dashboard.schemaVersion}`);
    const variables = dashboard.templating.list;
    assert.deepEqual(
      variables.map((variable) => [variable.name, variable.type]),
      [
        ["datasource", "datasource"],
        ["policy_namespace", "query"],
        ["policy", "query"],
      ],
    );
    for (const variable of variables.filter((entry) => entry.type === "query"))
      assert.equal(variable.datasource?.uid, "${datasource}", `variable ${variable.name}`);
    assert.ok(dashboard.panels.length >= 4);
    for (const panel of dashboard.panels) {
      assert.equal(panel.datasource?.uid, "${datasource}", `panel ${panel.title}`);
      assert.ok((panel.targets ?? []).length > 0, `panel ${panel.title} has no query`);
      for (const target of panel.targets ?? []) assert.equal(target.datasource?.uid, "${datasource}");
    }
  });

  test("selects only policy_governance_info and the shipped recording rules", () => {
    const allowed = new Set<string>([Metrics.policyGovernanceInfo, ...recordedNames]);
    for (const { where, expr } of dashboardExpressions()) {
      const metrics = selectedMetrics(expr);
      assert.ok(metrics.length > 0, `${where}: ${expr} selects no series`);
      for (const metric of metrics)
        assert.ok(allowed.has(metric), `${where}: ${metric} is not a metric bosun serves`);
    }
  });

  test("every query parses (promtool check rules, as recording rules)", async () => {
    const expressions = dashboardExpressions();
    const asRules = {
      groups: [
        {
          name: "dashboard",
          rules: expressions.map(({ expr }, index) => ({
            record: `dashboard_query_${index}`,
            expr: substitute(expr, everything),
          })),
        },
      ],
    };
    const dir = await mkdtemp(join(tmpdir(), "bosun-dashboard-rules-"));
    try {
      const file = join(dir, "dashboard.rules.yaml");
      await writeFile(file, stringify(asRules));
      const result = await runPromtool(binaries, ["check", "rules", file]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`SUCCESS: ${expressions.length} rules found`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A real Prometheus scraping a stand-in hub

/** What the stand-in hub serves: a policy_governance_info value per cluster (root computed like OCM's). */
const served = new Map<string, number>([
  ["east", MetricValues.nonCompliant],
  ["west", MetricValues.compliant],
  ["north", MetricValues.pendingOrUnknown],
]);

function exposition(): string {
  const series = (type: string, cluster: string, value: number) =>
    `${Metrics.policyGovernanceInfo}{${MetricLabels.type}="${type}",${MetricLabels.policy}="require-labels",` +
    `${MetricLabels.policyNamespace}="policies",${MetricLabels.clusterNamespace}="${cluster}"} ${value}\n`;
  const values = [...served.values()];
  const root = values.includes(MetricValues.nonCompliant)
    ? MetricValues.nonCompliant
    : values.every((value) => value === MetricValues.compliant)
      ? MetricValues.compliant
      : MetricValues.pendingOrUnknown;
  return (
    `# HELP ${Metrics.policyGovernanceInfo} The governance policy compliance\n` +
    `# TYPE ${Metrics.policyGovernanceInfo} gauge\n` +
    series(MetricValues.typeRoot, MetricValues.nullClusterNamespace, root) +
    [...served].map(([cluster, value]) => series(MetricValues.typePropagated, cluster, value)).join("")
  );
}

const byCluster = (samples: Sample[]): Record<string, number> =>
  Object.fromEntries(
    samples.map((sample) => [sample.metric[MetricLabels.clusterNamespace] ?? "", sample.value]),
  );
const single = (samples: Sample[]) => (samples.length === 1 ? samples[0]!.value : undefined);
const propagated = `${Metrics.policyGovernanceInfo}{type="propagated"}`;
const policyRatio =
  'policy_namespace_policy:policy_governance_compliance:ratio{policy_namespace="policies", policy="require-labels"}';
const clusterAlert = 'ALERTS{alertname="BosunPolicyNonCompliantOnCluster"}';

describe("a Prometheus started by the launcher, scraping a hub over TLS", () => {
  let hub: Server;
  let prometheus: RunningPrometheus;

  before(async () => {
    const ca = await createCertificateAuthority("bosun-test-metrics-ca");
    const serving = await issueCertificate(ca, {
      commonName: "bosun-hub",
      ipAddresses: ["127.0.0.1"],
      server: true,
    });
    hub = createServer({ key: serving.keyPem, cert: serving.certPem }, (request, response) => {
      if (request.url !== "/metrics") {
        response.writeHead(404).end();
        return;
      }
      response
        .writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" })
        .end(exposition());
    });
    await new Promise<void>((done) => hub.listen(0, "127.0.0.1", done));
    const { port } = hub.address() as AddressInfo;
    const otherCa = await createCertificateAuthority("bosun-test-other-ca");
    prometheus = await startPrometheus({
      binaries,
      targets: [
        { job: hubJob, url: `https://127.0.0.1:${port}/metrics`, tls: { caPem: ca.certPem } },
        // The same hub, trusted through a CA that did not sign its certificate.
        { job: untrustedJob, url: `https://127.0.0.1:${port}/metrics`, tls: { caPem: otherCa.certPem } },
      ],
      scrapeIntervalSeconds: 1,
      ruleFiles: [rulesFile],
    });
  });

  after(async () => {
    await prometheus?.stop();
    await new Promise((done) => hub?.close(done));
  });

  test("scrapes the hub, verifying its certificate", async () => {
    await prometheus.waitForSample(`up{job="${hubJob}"}`, (samples) => single(samples) === 1, waitMs);
    await prometheus.waitForSample(`up{job="${untrustedJob}"}`, (samples) => single(samples) === 0, waitMs);
  });

  test("reads each cluster's compliance", async () => {
    const samples = await prometheus.waitForSample(propagated, (found) => found.length === 3, waitMs);
    assert.deepEqual(byCluster(samples), { east: 1, west: 0, north: -1 });
    const root = await prometheus.query(`${Metrics.policyGovernanceInfo}{type="root"}`);
    assert.deepEqual(byCluster(root), { [MetricValues.nullClusterNamespace]: 1 });
  });

  test("evaluates the shipped rules: recorded ratios and a pending alert for the noncompliant cluster", async () => {
    await prometheus.waitForSample(policyRatio, (samples) => single(samples) === 1 / 3, waitMs);
    const counts = await Promise.all(
      ["noncompliant", "pending", "compliant"].map((state) =>
        prometheus.query(`policy_namespace_policy:policy_governance_${state}_clusters:count`),
      ),
    );
    assert.deepEqual(counts.map(single), [1, 1, 1]);
    assert.equal(single(await prometheus.query(":policy_governance_compliance:ratio")), 1 / 3);
    // `for: 5m` keeps the alert pending here; that it fires is proved by promtool test rules.
    const alerts = await prometheus.waitForSample(clusterAlert, (samples) => samples.length > 0, waitMs);
    assert.deepEqual(
      alerts.map((alert) => [alert.metric.alertstate, alert.metric.cluster_namespace, alert.metric.severity]),
      [["pending", "east", "warning"]],
    );
    const hubAlerts = await prometheus.query('ALERTS{alertname=~"BosunHubDown|BosunHubAbsent"}');
    assert.deepEqual(hubAlerts, []);
  });

  test("answers every dashboard query, for all policies and for one", async () => {
    for (const values of [everything, onePolicy]) {
      for (const { where, expr } of dashboardExpressions()) {
        const promql = substitute(expr, values);
        const samples = await prometheus.query(promql);
        assert.ok(samples.length > 0, `${where}: ${promql} found nothing`);
      }
    }
  });

  test("follows a change of the served compliance", async () => {
    served.set("east", MetricValues.compliant);
    const samples = await prometheus.waitForSample(
      propagated,
      (found) => byCluster(found).east === MetricValues.compliant,
      waitMs,
    );
    assert.deepEqual(byCluster(samples), { east: 0, west: 0, north: -1 });
    await prometheus.waitForSample(policyRatio, (found) => single(found) === 2 / 3, waitMs);
    await prometheus.waitForSample(clusterAlert, (found) => found.length === 0, waitMs);
  });

  test("forgets a cluster whose series the hub no longer serves", async () => {
    served.delete("north");
    const samples = await prometheus.waitForSample(propagated, (found) => found.length === 2, waitMs);
    assert.deepEqual(byCluster(samples), { east: 0, west: 0 });
    await prometheus.waitForSample(policyRatio, (found) => single(found) === 1, waitMs);
  });

  test("refuses a query that does not parse", async () => {
    await assert.rejects(
      prometheus.waitForSample("sum(", () => true, waitMs),
      /bad_data/,
    );
  });

  test("stop ends Prometheus", async () => {
    await prometheus.stop();
    await assert.rejects(fetch(`${prometheus.url}/-/ready`));
  });
});
