import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { sampleValue } from "../../test/support/metric-samples.ts";
import { complianceValue, PolicyMetrics } from "./metrics.ts";

const governance = (severity: string) => ({
  kind: "ConfigurationPolicy",
  policy: "p",
  policy_namespace: "cluster1",
  severity,
});

describe("policy metrics", () => {
  const values: [string | undefined, number][] = [
    ["Compliant", 0],
    ["NonCompliant", 1],
    ["Terminating", -1],
    [undefined, -1],
  ];
  for (const [state, value] of values) {
    it(`${state ?? "unknown"} is ${value}`, () => assert.equal(complianceValue(state), value));
  }

  it("counts evaluations and their seconds, reports compliance, and forgets a deleted policy", async () => {
    const registry = new Registry();
    const metrics = new PolicyMetrics(registry);
    metrics.evaluated("p", 0.25);
    metrics.evaluated("p", 0.5);
    metrics.compliance("cluster1", "p", "high", "NonCompliant");
    assert.equal(await sampleValue(registry, "config_policy_evaluation_total", { name: "p" }), 2);
    assert.equal(await sampleValue(registry, "config_policy_evaluation_seconds_total", { name: "p" }), 0.75);
    assert.equal(await sampleValue(registry, "cluster_policy_governance_info", governance("high")), 1);

    // A new severity moves the series.
    metrics.compliance("cluster1", "p", "low", "Compliant");
    assert.equal(
      await sampleValue(registry, "cluster_policy_governance_info", governance("high")),
      undefined,
    );
    assert.equal(await sampleValue(registry, "cluster_policy_governance_info", governance("low")), 0);

    metrics.forget("cluster1", "p");
    assert.equal(await sampleValue(registry, "config_policy_evaluation_total", { name: "p" }), undefined);
    assert.equal(
      await sampleValue(registry, "config_policy_evaluation_seconds_total", { name: "p" }),
      undefined,
    );
    assert.equal(await sampleValue(registry, "cluster_policy_governance_info", governance("low")), undefined);
  });

  it("shares the metric families of a registry between agents", () => {
    const registry = new Registry();
    new PolicyMetrics(registry).evaluated("a", 1);
    assert.doesNotThrow(() => new PolicyMetrics(registry).evaluated("b", 1));
  });
});
