// `bosun get token`, `bosun get clusters`, `bosun get works` and `bosun get replicasets`.
import type { Command } from "commander";
import { stringify } from "yaml";
import {
  BosunWorkLabels,
  Labels,
  ManagedClusterConditions,
  ManifestWorkConditions,
  ManifestWorkReplicaSetConditions,
  Resources,
} from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { KubeObject } from "../../api/types/meta.ts";
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
}
