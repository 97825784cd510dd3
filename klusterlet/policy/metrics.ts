// config-policy-controller's metrics, on the registry the agent is given: evaluations and
// their time per policy, and each policy's compliance as cluster_policy_governance_info
// (0 Compliant, 1 NonCompliant, -1 anything else). A deleted policy's series are removed.
import { Counter, Gauge, type Registry } from "prom-client";
import { ComplianceStates, MetricLabels, MetricValues, Metrics, Resources } from "../../api/constants.ts";

type GovernanceLabels = "kind" | "policy" | "policy_namespace" | "severity";

function metric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** The gauge's value for a compliance state. */
export function complianceValue(compliant: string | undefined): number {
  if (compliant === ComplianceStates.compliant) return MetricValues.compliant;
  if (compliant === ComplianceStates.nonCompliant) return MetricValues.nonCompliant;
  return MetricValues.pendingOrUnknown;
}

export class PolicyMetrics {
  readonly #evaluations: Counter<"name">;
  readonly #seconds: Counter<"name">;
  readonly #governance: Gauge<GovernanceLabels>;
  /** The governance labels each policy was last reported under, by `namespace/name`. */
  readonly #reported = new Map<string, Record<GovernanceLabels, string>>();

  constructor(registry: Registry) {
    this.#evaluations = metric(
      registry,
      Metrics.configPolicyEvaluationTotal,
      () =>
        new Counter({
          name: Metrics.configPolicyEvaluationTotal,
          help: "The total number of evaluations of the configuration policy",
          labelNames: [MetricLabels.name],
          registers: [registry],
        }),
    );
    this.#seconds = metric(
      registry,
      Metrics.configPolicyEvaluationSecondsTotal,
      () =>
        new Counter({
          name: Metrics.configPolicyEvaluationSecondsTotal,
          help: "The total seconds taken while evaluating the configuration policy",
          labelNames: [MetricLabels.name],
          registers: [registry],
        }),
    );
    this.#governance = metric(
      registry,
      Metrics.clusterPolicyGovernanceInfo,
      () =>
        new Gauge({
          name: Metrics.clusterPolicyGovernanceInfo,
          help: "The compliance of each policy on the cluster: 0 Compliant, 1 NonCompliant, -1 other",
          labelNames: [
            MetricLabels.kind,
            MetricLabels.policy,
            MetricLabels.policyNamespace,
            MetricLabels.severity,
          ],
          registers: [registry],
        }),
    );
  }

  /** Counts one evaluation of the policy and its time. */
  evaluated(name: string, seconds: number): void {
    this.#evaluations.inc({ name });
    this.#seconds.inc({ name }, Math.max(0, seconds));
  }

  /** Reports the policy's compliance, moving the series when its severity changed. */
  compliance(namespace: string, name: string, severity: string, compliant: string | undefined): void {
    const key = `${namespace}/${name}`;
    const labels = {
      kind: Resources.ConfigurationPolicy.kind,
      policy: name,
      policy_namespace: namespace,
      severity,
    };
    const before = this.#reported.get(key);
    if (before && before.severity !== severity) this.#governance.remove(before);
    this.#reported.set(key, labels);
    this.#governance.set(labels, complianceValue(compliant));
  }

  /** Removes every series of a deleted policy. */
  forget(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const labels = this.#reported.get(key);
    if (labels) this.#governance.remove(labels);
    this.#reported.delete(key);
    this.#evaluations.remove({ name });
    this.#seconds.remove({ name });
  }
}
