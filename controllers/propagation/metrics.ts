// The hub's governance metrics under OCM's names: `policy_governance_info` per root policy and
// per replicated policy (0 compliant, 1 noncompliant, -1 pending or unknown), the propagation
// failure counter, the root-policy handling histogram, and bosun's count of compliance changes
// (every change, so nothing is lost past the 10 history entries a Policy keeps).
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { BosunGovernanceMetrics, MetricLabels, MetricValues, Metrics } from "../../api/constants.ts";
import type { ComplianceState } from "../../api/types/policy.ts";

/** The gauge value OCM reports for a compliance state. */
export function complianceValue(compliant: ComplianceState | undefined): number {
  if (compliant === "Compliant") return MetricValues.compliant;
  if (compliant === "NonCompliant") return MetricValues.nonCompliant;
  return MetricValues.pendingOrUnknown;
}

export class GovernanceMetrics {
  readonly #info: Gauge;
  readonly #failures: Counter;
  readonly #changes: Counter;
  readonly handleDuration: Histogram;
  /** Cluster namespaces with a propagated series, per root `namespace/name`. */
  readonly #clusters = new Map<string, Set<string>>();

  constructor(registry: Registry) {
    const existing = (name: string) => registry.getSingleMetric(name);
    this.#info =
      (existing(Metrics.policyGovernanceInfo) as Gauge | undefined) ??
      new Gauge({
        name: Metrics.policyGovernanceInfo,
        help: "The governance policy compliance: 0 compliant, 1 noncompliant, -1 pending or unknown",
        labelNames: [
          MetricLabels.type,
          MetricLabels.policy,
          MetricLabels.policyNamespace,
          MetricLabels.clusterNamespace,
        ],
        registers: [registry],
      });
    this.#failures =
      (existing(Metrics.policyPropagationFailureTotal) as Counter | undefined) ??
      new Counter({
        name: Metrics.policyPropagationFailureTotal,
        help: "Failed attempts to propagate a root policy to its clusters",
        labelNames: [MetricLabels.name, MetricLabels.namespace],
        registers: [registry],
      });
    this.#changes =
      (existing(BosunGovernanceMetrics.complianceChangesTotal) as Counter | undefined) ??
      new Counter({
        name: BosunGovernanceMetrics.complianceChangesTotal,
        help: "Compliance messages received from clusters, per policy, cluster and state",
        labelNames: [
          MetricLabels.policy,
          MetricLabels.policyNamespace,
          MetricLabels.clusterNamespace,
          BosunGovernanceMetrics.compliantLabel,
        ],
        registers: [registry],
      });
    // OCM's histogram is literally named with a `_bucket` suffix, so its series end in `_bucket_bucket`.
    this.handleDuration =
      (existing(Metrics.handleRootPolicyDurationSeconds) as Histogram | undefined) ??
      new Histogram({
        name: Metrics.handleRootPolicyDurationSeconds,
        help: "Seconds spent handling one root policy",
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      });
  }

  /** Sets a root policy's series and its clusters' series; clusters no longer listed lose theirs. */
  setRoot(
    namespace: string,
    name: string,
    compliant: ComplianceState | undefined,
    clusters: ReadonlyMap<string, ComplianceState | undefined>,
  ): void {
    this.#info.set(
      this.#labels(MetricValues.typeRoot, namespace, name, MetricValues.nullClusterNamespace),
      complianceValue(compliant),
    );
    const key = `${namespace}/${name}`;
    const previous = this.#clusters.get(key) ?? new Set<string>();
    for (const cluster of previous) {
      if (!clusters.has(cluster))
        this.#info.remove(this.#labels(MetricValues.typePropagated, namespace, name, cluster));
    }
    for (const [cluster, value] of clusters)
      this.#info.set(
        this.#labels(MetricValues.typePropagated, namespace, name, cluster),
        complianceValue(value),
      );
    this.#clusters.set(key, new Set(clusters.keys()));
  }

  /** Removes every series of a root policy: it was deleted or disabled. */
  removeRoot(namespace: string, name: string): void {
    this.#info.remove(
      this.#labels(MetricValues.typeRoot, namespace, name, MetricValues.nullClusterNamespace),
    );
    const key = `${namespace}/${name}`;
    for (const cluster of this.#clusters.get(key) ?? [])
      this.#info.remove(this.#labels(MetricValues.typePropagated, namespace, name, cluster));
    this.#clusters.delete(key);
  }

  propagationFailed(namespace: string, name: string): void {
    this.#failures.inc({ [MetricLabels.name]: name, [MetricLabels.namespace]: namespace });
  }

  complianceChanged(namespace: string, name: string, cluster: string, compliant: ComplianceState): void {
    this.#changes.inc({
      [MetricLabels.policy]: name,
      [MetricLabels.policyNamespace]: namespace,
      [MetricLabels.clusterNamespace]: cluster,
      [BosunGovernanceMetrics.compliantLabel]: compliant,
    });
  }

  #labels(type: string, namespace: string, name: string, cluster: string) {
    return {
      [MetricLabels.type]: type,
      [MetricLabels.policy]: name,
      [MetricLabels.policyNamespace]: namespace,
      [MetricLabels.clusterNamespace]: cluster,
    };
  }
}
