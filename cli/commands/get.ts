// `bosun get token`, `bosun get clusters`, `bosun get works`, `bosun get replicasets` and
// `bosun get policies`.
import type { Command } from "commander";
import { stringify } from "yaml";
import {
  BosunWorkLabels,
  Labels,
  PolicyLabels,
  ManagedClusterConditions,
  ManifestWorkConditions,
  ManifestWorkReplicaSetConditions,
  Resources,
} from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { KubeObject } from "../../api/types/meta.ts";
import type { Policy } from "../../api/types/policy.ts";
import type { ManifestWork, ManifestWorkReplicaSet } from "../../api/types/work.ts";
import { hubEndpointOf } from "../../controllers/registration/bootstrap.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { addKubeFlags, clientFromFlags, type KubeFlags } from "../kube.ts";
import { joinCommand, joinToken, type TokenFlags } from "./init.ts";

export interface ClusterRow {
  name: string;
  accepted: string;
  joined: string;
  available: string;
  clusterSet: string;
  kubeVersion: string;
  cpu: string;
  memory: string;
  claims: string;
}

export function clusterRow(cluster: ManagedCluster): ClusterRow {
  const condition = (type: string) => findCondition(cluster.status?.conditions, type)?.status ?? "";
  const claims = (cluster.status?.clusterClaims ?? []).map((claim) => `${claim.name}=${claim.value}`);
  return {
    name: cluster.metadata.name ?? "",
    accepted: String(cluster.spec?.hubAcceptsClient ?? false),
    joined: condition(ManagedClusterConditions.joined),
    available: condition(ManagedClusterConditions.available),
    clusterSet: cluster.metadata.labels?.[Labels.clusterSet] ?? "",
    kubeVersion: cluster.status?.version?.kubernetes ?? "",
    cpu: String(cluster.status?.capacity?.cpu ?? ""),
    memory: String(cluster.status?.capacity?.memory ?? ""),
    claims: claims.join(","),
  };
}

/** A kubectl-style table: upper-case headers, columns padded to their widest cell. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]! + 3)))
      .join("")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

export function clustersTable(clusters: ManagedCluster[]): string {
  const rows = clusters
    .map(clusterRow)
    .map((row) => [
      row.name,
      row.accepted,
      row.joined,
      row.available,
      row.clusterSet,
      row.kubeVersion,
      row.cpu,
      row.memory,
      row.claims,
    ]);
  return formatTable(
    ["NAME", "ACCEPTED", "JOINED", "AVAILABLE", "CLUSTERSET", "KUBERNETES", "CPU", "MEMORY", "CLAIMS"],
    rows,
  );
}

export function worksTable(works: ManifestWork[]): string {
  const rows = works.map((work) => {
    const labels = work.metadata.labels ?? {};
    const condition = (type: string) => findCondition(work.status?.conditions, type)?.status ?? "";
    const index = labels[BosunWorkLabels.partIndex];
    const count = labels[BosunWorkLabels.partCount];
    return [
      work.metadata.namespace ?? "",
      work.metadata.name ?? "",
      labels[Labels.manifestWorkReplicaSet] ?? "",
      index !== undefined && count !== undefined ? `${Number(index) + 1}/${count}` : "",
      String(work.spec?.workload?.manifests?.length ?? 0),
      condition(ManifestWorkConditions.applied),
      condition(ManifestWorkConditions.available),
      work.metadata.deletionTimestamp ? "Deleting" : "",
    ];
  });
  return formatTable(
    ["CLUSTER", "NAME", "REPLICASET", "PART", "MANIFESTS", "APPLIED", "AVAILABLE", "STATE"],
    rows,
  );
}

export function replicaSetsTable(replicaSets: ManifestWorkReplicaSet[]): string {
  const rows = replicaSets.map((set) => {
    const summary = set.status?.summary;
    const condition = (type: string) => findCondition(set.status?.conditions, type);
    const rolledOut = condition(ManifestWorkReplicaSetConditions.placementRolledOut);
    return [
      set.metadata.namespace ?? "",
      set.metadata.name ?? "",
      (set.spec?.placementRefs ?? []).map((ref) => ref.name).join(","),
      String(summary?.total ?? 0),
      String(summary?.applied ?? 0),
      String(summary?.available ?? 0),
      String(summary?.progressing ?? 0),
      String(summary?.degraded ?? 0),
      rolledOut?.reason ?? "",
      condition(ManifestWorkReplicaSetConditions.manifestworkApplied)?.reason ?? "",
    ];
  });
  return formatTable(
    [
      "NAMESPACE",
      "NAME",
      "PLACEMENTS",
      "TOTAL",
      "APPLIED",
      "AVAILABLE",
      "PROGRESSING",
      "DEGRADED",
      "ROLLOUT",
      "WORKS",
    ],
    rows,
  );
}

/** An age as kubectl prints it: "45s", "3m20s", "5h", "2d3h", "400d", "3y20d". */
export function humanAge(createdMs: number, nowMs: number): string {
  const seconds = Math.floor((nowMs - createdMs) / 1000);
  if (Number.isNaN(seconds)) return "<unknown>";
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const withRest = (whole: number, unit: string, rest: number, restUnit: string) =>
    rest === 0 ? `${whole}${unit}` : `${whole}${unit}${rest}${restUnit}`;
  if (minutes < 10) return withRest(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withRest(hours, "h", minutes % 60, "m");
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return withRest(days, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return withRest(years, "y", days % 365, "d");
  return `${years}y`;
}

/** Policies with OCM's print columns: remediation action, compliance state and age. */
export function policiesTable(policies: Policy[], nowMs: number): string {
  const rows = policies.map((policy) => [
    policy.metadata.namespace ?? "",
    policy.metadata.name ?? "",
    policy.spec?.remediationAction ?? "",
    policy.status?.compliant ?? "",
    policy.metadata.creationTimestamp
      ? humanAge(Date.parse(policy.metadata.creationTimestamp), nowMs)
      : "<unknown>",
  ]);
  return formatTable(["NAMESPACE", "NAME", "REMEDIATION ACTION", "COMPLIANCE STATE", "AGE"], rows);
}

/** Prints a list as kubectl does: a table, or a v1 List in YAML or JSON without managedFields. */
function printList<T extends KubeObject>(
  items: T[],
  output: string,
  table: (items: T[]) => string,
  none: string,
): void {
  items.sort(
    (a, b) =>
      (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") ||
      (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
  );
  // As kubectl does, leave out the field-ownership bookkeeping.
  for (const item of items) delete item.metadata.managedFields;
  if (output === "json") console.log(JSON.stringify({ apiVersion: "v1", kind: "List", items }, null, 2));
  else if (output === "yaml") console.log(stringify({ apiVersion: "v1", kind: "List", items }));
  else if (output === "table") console.log(items.length ? table(items) : none);
  else throw new Error(`-o must be table, yaml or json, not "${output}"`);
}

export function registerGet(program: Command): void {
  const get = program.command("get").description("show hub objects");
  addKubeFlags(
    get.command("token").description("print a fresh bootstrap token and the join command"),
    "the hub",
  )
    .option(
      "--use-bootstrap-token",
      "print the Kubernetes bootstrap token instead of a new service-account token",
    )
    .option("-o, --output <format>", "text or json", "text")
    .action(async (flags: TokenFlags) => {
      const client = await clientFromFlags(flags);
      try {
        const token = await joinToken(client, flags);
        const server = hubEndpointOf(client).server;
        if (flags.output === "json")
          console.log(JSON.stringify({ hubToken: token, hubApiserver: server }, null, 2));
        else
          console.log(
            `token=${token}\nplease log on the managed cluster and run:\n  ${joinCommand(token, server)}`,
          );
      } finally {
        client.close();
      }
    });
  addKubeFlags(get.command("clusters").alias("cluster").description("list the managed clusters"), "the hub")
    .option("-o, --output <format>", "table, yaml or json", "table")
    .action(async (flags: KubeFlags & { output: string }) => {
      const client = await clientFromFlags(flags);
      try {
        const { items } = await client.listAll<ManagedCluster>(
          Resources.ManagedCluster.apiVersion,
          Resources.ManagedCluster.kind,
        );
        printList(items, flags.output, clustersTable, "No managed clusters found.");
      } finally {
        client.close();
      }
    });
  addKubeFlags(
    get
      .command("works")
      .alias("work")
      .description("list ManifestWorks: every cluster's, or one cluster's with -n"),
    "the hub",
  )
    .option("-n, --namespace <cluster>", "only the works of this cluster (its namespace on the hub)")
    .option("-o, --output <format>", "table, yaml or json", "table")
    .action(async (flags: KubeFlags & { output: string; namespace?: string }) => {
      const client = await clientFromFlags(flags);
      try {
        const { items } = await client.listAll<ManifestWork>(
          Resources.ManifestWork.apiVersion,
          Resources.ManifestWork.kind,
          { namespace: flags.namespace },
        );
        printList(items, flags.output, worksTable, "No ManifestWorks found.");
      } finally {
        client.close();
      }
    });
  addKubeFlags(
    get
      .command("replicasets")
      .aliases(["replicaset", "mwrs"])
      .description("list ManifestWorkReplicaSets and their rollout"),
    "the hub",
  )
    .option("-n, --namespace <namespace>", "only this namespace")
    .option("-o, --output <format>", "table, yaml or json", "table")
    .action(async (flags: KubeFlags & { output: string; namespace?: string }) => {
      const client = await clientFromFlags(flags);
      try {
        const { items } = await client.listAll<ManifestWorkReplicaSet>(
          Resources.ManifestWorkReplicaSet.apiVersion,
          Resources.ManifestWorkReplicaSet.kind,
          { namespace: flags.namespace },
        );
        printList(items, flags.output, replicaSetsTable, "No ManifestWorkReplicaSets found.");
      } finally {
        client.close();
      }
    });
  addKubeFlags(
    get
      .command("policies")
      .aliases(["policy", "plc"])
      .description("list root Policies (and, with --replicas, the replicated ones)"),
    "the hub",
  )
    .option("-n, --namespace <namespace>", "only this namespace (default: default)")
    .option("-A, --all-namespaces", "every namespace")
    .option("--replicas", "include the replicated Policies in the cluster namespaces")
    .option("-o, --output <format>", "table, yaml or json", "table")
    .action(async function (
      this: Command,
      flags: KubeFlags & { output: string; namespace?: string; allNamespaces?: boolean; replicas?: boolean },
    ) {
      if (flags.allNamespaces && flags.namespace !== undefined)
        this.error("error: give -n or -A, not both", { exitCode: 2, code: "bosun.usage" });
      const client = await clientFromFlags(flags);
      try {
        const { items } = await client.listAll<Policy>(Resources.Policy.apiVersion, Resources.Policy.kind, {
          namespace: flags.allNamespaces ? undefined : (flags.namespace ?? "default"),
          ...(flags.replicas ? {} : { labelSelector: `!${PolicyLabels.rootPolicy}` }),
        });
        const now = Date.now();
        printList(items, flags.output, (policies) => policiesTable(policies, now), "No Policies found.");
      } finally {
        client.close();
      }
    });
}
