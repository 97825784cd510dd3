// `bosun get token` and `bosun get clusters`.
import type { Command } from "commander";
import { stringify } from "yaml";
import { ManagedClusterConditions, Labels, Resources } from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
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
          "ManagedCluster",
        );
        items.sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
        // As kubectl does, leave out the field-ownership bookkeeping.
        for (const item of items) delete item.metadata.managedFields;
        if (flags.output === "json")
          console.log(JSON.stringify({ apiVersion: "v1", kind: "List", items }, null, 2));
        else if (flags.output === "yaml") console.log(stringify({ apiVersion: "v1", kind: "List", items }));
        else if (flags.output === "table")
          console.log(items.length ? clustersTable(items) : "No managed clusters found.");
        else throw new Error(`-o must be table, yaml or json, not "${flags.output}"`);
      } finally {
        client.close();
      }
    });
}
