// `bosun accept --clusters a,b`: approves each cluster's pending bootstrap CSRs and sets
// hubAcceptsClient. Only CSRs that ask for exactly that cluster's agent identity, from a
// bootstrap requester, are approved: a CSR labelled for cluster A whose subject names B,
// or with another signer or key usage, stays pending whatever the operator types.
import { setTimeout as sleep } from "node:timers/promises";
import { isPending } from "../../api/csr.ts";
import type { Command } from "commander";
import { Labels, Resources } from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import {
  approveCsr,
  checkClusterCsr,
  isBootstrapRequester,
  parseRequest,
  type CertificateSigningRequest,
} from "../../controllers/registration/csr.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import { addKubeFlags, withKubeClient, type KubeFlags } from "../kube.ts";
import { outputOption } from "../output.ts";

export const approveReason = "bosun Approve";

export interface AcceptOptions {
  /** Keep looking for CSRs until this deadline instead of failing at once. */
  waitMs?: number;
  /** Approve only CSRs from these requesters (spec.username) when several requesters asked. */
  requesters?: string[];
  /** Approve any requester, not only bootstrap identities. */
  skipApproveCheck?: boolean;
  /** Report what would be approved and accepted; write nothing (the accept patch is a server-side dry run). */
  dryRun?: boolean;
  now?: () => number;
  log?: (line: string) => void;
}

export interface AcceptResult {
  cluster: string;
  /** The CSRs approved (with dryRun: that would be). */
  approved: string[];
  skipped: { csr: string; reason: string }[];
  /** hubAcceptsClient was set by this run (with dryRun: would be). */
  accepted: boolean;
  dryRun: boolean;
}

async function pendingCsrs(client: KubeApi, cluster: string): Promise<CertificateSigningRequest[]> {
  const { items } = await client.listAll<CertificateSigningRequest>(
    "certificates.k8s.io/v1",
    "CertificateSigningRequest",
    {
      labelSelector: `${Labels.clusterName}=${cluster}`,
    },
  );
  return items.filter(isPending);
}

async function acceptedAlready(client: KubeApi, cluster: string): Promise<boolean> {
  const existing = await client.getOrUndefined<ManagedCluster>({
    apiVersion: Resources.ManagedCluster.apiVersion,
    kind: "ManagedCluster",
    name: cluster,
  });
  return existing?.spec?.hubAcceptsClient === true;
}

export async function acceptCluster(
  client: KubeApi,
  cluster: string,
  options: AcceptOptions = {},
): Promise<AcceptResult> {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const deadline = now() + (options.waitMs ?? 0);
  const dryRun = options.dryRun === true;
  const result: AcceptResult = { cluster, approved: [], skipped: [], accepted: false, dryRun };
  for (;;) {
    const candidates: CertificateSigningRequest[] = [];
    result.skipped = [];
    for (const csr of await pendingCsrs(client, cluster)) {
      const verdict = checkClusterCsr(csr, parseRequest(csr.spec.request));
      const name = csr.metadata.name ?? "";
      if (!verdict.valid) result.skipped.push({ csr: name, reason: verdict.reason });
      else if (!options.skipApproveCheck && !isBootstrapRequester(csr)) {
        result.skipped.push({
          csr: name,
          reason: `requester ${csr.spec.username ?? "(none)"} is not a bootstrap identity`,
        });
      } else candidates.push(csr);
    }
    const requesters = [...new Set(candidates.map((csr) => csr.spec.username ?? ""))];
    let chosen = candidates;
    if (options.requesters?.length)
      chosen = candidates.filter((csr) => options.requesters!.includes(csr.spec.username ?? ""));
    else if (requesters.length > 1 && !options.skipApproveCheck) {
      throw new Error(
        `cluster ${cluster} has CSRs from several requesters (${requesters.join(", ")}); name the one to trust with --requesters`,
      );
    }
    for (const csr of chosen) {
      if (!dryRun) await approveCsr(client, csr, approveReason, "Approved by bosun accept", now());
      result.approved.push(csr.metadata.name ?? "");
      log(`CSR ${csr.metadata.name} ${dryRun ? "would be approved (dry run)" : "approved"}`);
    }
    if (result.approved.length > 0 || now() >= deadline) break;
    // Nothing to approve for a cluster accepted before (a re-run): no reason to wait.
    if (candidates.length === 0 && (await acceptedAlready(client, cluster))) break;
    await sleep(1000);
  }
  for (const skipped of result.skipped) log(`CSR ${skipped.csr} not approved: ${skipped.reason}`);
  const existing = await client.getOrUndefined<ManagedCluster>({
    apiVersion: Resources.ManagedCluster.apiVersion,
    kind: "ManagedCluster",
    name: cluster,
  });
  if (!existing)
    throw new Error(`no ManagedCluster named ${cluster} on the hub: has its agent run \`bosun join\`?`);
  if (result.approved.length === 0 && !existing.spec?.hubAcceptsClient) {
    throw new Error(`no csr is approved yet for cluster ${cluster}`);
  }
  if (!existing.spec?.hubAcceptsClient) {
    await client.patch(
      { apiVersion: existing.apiVersion, kind: existing.kind, name: cluster },
      "merge",
      { spec: { hubAcceptsClient: true } },
      { dryRun },
    );
    result.accepted = true;
  }
  log(
    dryRun
      ? existing.spec?.hubAcceptsClient
        ? `managed cluster ${cluster} is accepted already (dry run)`
        : `would set hubAcceptsClient to true for managed cluster ${cluster} (dry run)`
      : `set hubAcceptsClient to true for managed cluster ${cluster}`,
  );
  return result;
}

export function registerAccept(program: Command): void {
  addKubeFlags(
    program.command("accept").description("approve the join requests of managed clusters and accept them"),
    "the hub",
  )
    .requiredOption("--clusters <names>", "comma-separated cluster names")
    .option("--wait", "wait for the clusters' CSRs to appear")
    .option("--timeout <seconds>", "how long --wait waits", "120")
    .option("--requesters <users>", "comma-separated CSR requesters to trust when several asked")
    .option("--skip-approve-check", "approve CSRs from any requester, not only bootstrap identities")
    .option("--dry-run", "print what would be approved and accepted, and change nothing")
    .addOption(outputOption(["text", "json"], "text"))
    .action(
      async (
        flags: KubeFlags & {
          clusters: string;
          wait?: boolean;
          timeout: string;
          requesters?: string;
          skipApproveCheck?: boolean;
          dryRun?: boolean;
          output: "text" | "json";
        },
      ) => {
        const clusters = flags.clusters
          .split(",")
          .map((name) => name.trim())
          .filter(Boolean);
        if (clusters.length === 0) throw new Error("--clusters names no cluster");
        const results = await withKubeClient(flags, async (client) => {
          const accepted: AcceptResult[] = [];
          for (const cluster of clusters) {
            accepted.push(
              await acceptCluster(client, cluster, {
                waitMs: flags.wait ? Number(flags.timeout) * 1000 : 0,
                requesters: flags.requesters?.split(",").map((user) => user.trim()),
                skipApproveCheck: flags.skipApproveCheck,
                dryRun: flags.dryRun,
                log: (line) => flags.output === "text" && console.log(line),
              }),
            );
          }
          return accepted;
        });
        if (flags.output === "json") console.log(JSON.stringify(results, null, 2));
      },
    );
}
