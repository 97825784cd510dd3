// `bosun join` (on a managed cluster): writes the bootstrap kubeconfig for the hub, installs
// the managed-cluster APIs and starts the agent; `bosun unjoin` undoes it.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { stringify } from "yaml";
import {
  HubInfo,
  KubeconfigNames,
  ManagedClusterConditions,
  Namespaces,
  Resources,
  Secrets,
} from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { AppliedManifestWork } from "../../api/types/work.ts";
import { applyServerSide } from "../../runtime/apply.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { clusterInfoCa, verifiedClusterInfoCa } from "../../klusterlet/bootstrap/cluster-info.ts";
import { releaseAppliedWorks } from "../../klusterlet/work/release.ts";
import { parseBootstrapToken, type BootstrapToken } from "../../runtime/bootstrap-signature.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { backgroundPid, startBackground, stopBackground } from "../background.ts";
import { installCrds, readCrds } from "../../runtime/crds.ts";
import {
  agentStep,
  checkDryRunFlags,
  planLines,
  planObjects,
  unjoinSteps,
  type PlanStep,
} from "./dry-run.ts";
import { addKubeFlags, clientFromFlags, kubeconfigArgs, loadKubeconfig, type KubeFlags } from "../kube.ts";
import {
  agentDeployManifests,
  applyManifests,
  bootstrapSecret,
  checkDeployFlags,
  manifestStream,
  readDeployManifests,
  type DeployFlags,
} from "./deploy-manifests.ts";

export const joinFieldManager = "bosun-join";

export function defaultAgentDir(): string {
  return join(homedir(), ".bosun", "agents");
}

export function bootstrapKubeconfig(server: string, caPem: string, token: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: KubeconfigNames.bootstrapCluster,
        cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") },
      },
    ],
    users: [{ name: KubeconfigNames.bootstrapUser, user: { token } }],
    contexts: [
      {
        name: KubeconfigNames.bootstrapContext,
        context: { cluster: KubeconfigNames.bootstrapCluster, user: KubeconfigNames.bootstrapUser },
      },
    ],
    "current-context": KubeconfigNames.bootstrapContext,
  });
}

function caFromClusterInfo(configMap: Unstructured): string | undefined {
  const kubeconfig = (configMap.data as Record<string, string> | undefined)?.kubeconfig;
  return kubeconfig ? clusterInfoCa(kubeconfig) : undefined;
}

/** A client that does not verify the hub's certificate: with `token`, or anonymous. */
function unverifiedClient(server: string, token: string | undefined): Promise<KubeClient> {
  return KubeClient.fromString(
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "hub", cluster: { server, "insecure-skip-tls-verify": true } }],
      users: [{ name: "bootstrap", user: token ? { token } : {} }],
      contexts: [{ name: "bootstrap", context: { cluster: "hub", user: "bootstrap" } }],
      "current-context": "bootstrap",
    }),
  );
}

function fingerprint(caPem: string): string {
  const der = Buffer.from(caPem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");
  return `sha256:${createHash("sha256").update(der).digest("hex")}`;
}

const clusterInfoRef = {
  apiVersion: "v1",
  kind: "ConfigMap",
  name: HubInfo.clusterInfoConfigMap,
  namespace: Namespaces.kubePublic,
};

/**
 * With a Kubernetes bootstrap token, the CA is what cluster-info says once its signature
 * with the token checks out. cluster-info is read anonymously: the token is not sent to a
 * server that is not yet trusted, which could otherwise sign a CA of its own with it.
 */
async function discoverSignedHubCa(
  server: string,
  token: BootstrapToken,
  log: (line: string) => void,
): Promise<string> {
  const anonymous = await unverifiedClient(server, undefined);
  try {
    let info: Unstructured | undefined;
    try {
      // By path: an anonymous client may not read the API discovery documents.
      info = await anonymous.request<Unstructured>({
        method: "GET",
        path: `/api/v1/namespaces/${Namespaces.kubePublic}/configmaps/${HubInfo.clusterInfoConfigMap}`,
      });
    } catch (error) {
      if (error instanceof KubeApiError && error.notFound) info = undefined;
      else if (error instanceof KubeApiError && (error.status === 401 || error.status === 403)) {
        throw new Error(
          `the hub at ${server} does not let a joining cluster read kube-public/cluster-info anonymously ` +
            "(run bosun init on the hub, or pass --ca-file)",
          { cause: error },
        );
      }
      throw error;
    }
    if (!info) throw new Error(`the hub at ${server} publishes no kube-public/cluster-info; pass --ca-file`);
    const caPem = verifiedClusterInfoCa(info.data as Record<string, string> | undefined, token, server);
    log(`hub CA ${fingerprint(caPem)} (verified with the bootstrap token's signature)`);
    return caPem;
  } finally {
    anonymous.close();
  }
}

/**
 * The hub's CA: from --ca-file; else, for a bootstrap token, from the hub's signed
 * kube-public/cluster-info; else (a service-account token) from cluster-info or
 * kube-root-ca.crt, read with the token before the CA is known. That first contact cannot
 * verify the hub, so the CA's fingerprint is printed for the operator to check.
 */
export async function discoverHubCa(
  server: string,
  token: string,
  caFile: string | undefined,
  log: (line: string) => void,
): Promise<string> {
  if (caFile) return readFile(caFile, "utf8");
  const bootstrapToken = parseBootstrapToken(token);
  if (bootstrapToken) return discoverSignedHubCa(server, bootstrapToken, log);
  const unverified = await unverifiedClient(server, token);
  try {
    let caPem: string | undefined;
    const info = await unverified.getOrUndefined<Unstructured>(clusterInfoRef);
    if (info) caPem = caFromClusterInfo(info);
    if (!caPem) {
      const root = await unverified.getOrUndefined<Unstructured>({
        apiVersion: "v1",
        kind: "ConfigMap",
        name: HubInfo.rootCaConfigMap,
        namespace: Namespaces.kubePublic,
      });
      caPem = (root?.data as Record<string, string> | undefined)?.[HubInfo.rootCaKey];
    }
    if (!caPem)
      throw new Error(`the hub at ${server} publishes no CA (kube-public/cluster-info); pass --ca-file`);
    log(`hub CA ${fingerprint(caPem)} (pass --ca-file to pin it)`);
    return caPem;
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 401) {
      throw new Error(
        `the hub at ${server} rejected the token (expired? run \`bosun get token\` on the hub)`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    unverified.close();
  }
}

export interface JoinFlags extends KubeFlags {
  hubToken: string;
  hubApiserver: string;
  clusterName: string;
  caFile?: string;
  wait?: boolean;
  timeout: string;
  agent: string;
  agentDir: string;
  clientCertExpirationSeconds?: string;
  dryRun?: boolean;
}

/** What join applies on the managed cluster after the CRDs: the agent namespace and bootstrap Secret. */
export function joinObjects(bootstrapKubeconfigText: string): Unstructured[] {
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: Namespaces.agent } },
    bootstrapSecret(bootstrapKubeconfigText),
  ];
}

function checkJoinFlags(flags: JoinFlags): void {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(flags.clusterName) || flags.clusterName.length > 63) {
    throw new Error(
      `--cluster-name "${flags.clusterName}" must be a DNS-1123 label (lower-case letters, digits, '-')`,
    );
  }
  if (!flags.hubApiserver.startsWith("https://")) throw new Error("--hub-apiserver must be an https:// URL");
  if (flags.agent !== "background" && flags.agent !== "none")
    throw new Error(`--agent must be background or none`);
}

/** Fails now, with a clear message, rather than in the agent's log: the token must work. */
async function checkBootstrapToken(bootstrap: KubeClient, clusterName: string): Promise<void> {
  try {
    await bootstrap.getOrUndefined({
      apiVersion: Resources.ManagedCluster.apiVersion,
      kind: "ManagedCluster",
      name: clusterName,
    });
  } catch (error) {
    throw new Error(`the hub refused the bootstrap token: ${(error as Error).message}`, { cause: error });
  }
}

export async function joinCluster(flags: JoinFlags, log: (line: string) => void): Promise<void> {
  checkJoinFlags(flags);
  const caPem = await discoverHubCa(flags.hubApiserver, flags.hubToken, flags.caFile, log);
  const bootstrap = await KubeClient.fromString(
    bootstrapKubeconfig(flags.hubApiserver, caPem, flags.hubToken),
  );
  const managed = await clientFromFlags(flags);
  try {
    await checkBootstrapToken(bootstrap, flags.clusterName);
    await installCrds(managed, "managed", { onProgress: log });
    for (const object of joinObjects(bootstrapKubeconfig(flags.hubApiserver, caPem, flags.hubToken)))
      await applyServerSide(managed, object, { fieldManager: joinFieldManager, force: true });
    log(`wrote ${Namespaces.agent}/${Secrets.bootstrapHubKubeconfig}`);

    if (flags.agent === "background") {
      const target = loadKubeconfig(flags);
      const files = target.files.map((file) => resolve(file));
      const args = ["agent", ...kubeconfigArgs({ ...target, files }), "--cluster-name", flags.clusterName];
      if (flags.clientCertExpirationSeconds)
        args.push("--client-cert-expiration-seconds", flags.clientCertExpirationSeconds);
      const started = await startBackground(resolve(flags.agentDir), `agent-${flags.clusterName}`, args);
      log(`agent for ${flags.clusterName} running (pid ${started.pid}, log ${started.logFile})`);
    }
    log(`\nOn the hub, accept the cluster with:\n  bosun accept --clusters ${flags.clusterName}\n`);
    if (flags.wait) await waitForJoined(bootstrap, flags.clusterName, Number(flags.timeout) * 1000, log);
  } finally {
    bootstrap.close();
    managed.close();
  }
}

/**
 * `bosun join --dry-run`: the checks join makes before it writes (the hub's CA, read from
 * cluster-info unless --ca-file; the token, with a GET on the hub), then what it would write
 * on the managed cluster, read with GETs only, and the agent it would start.
 */
export async function planJoin(flags: JoinFlags, log: (line: string) => void): Promise<PlanStep[]> {
  checkJoinFlags(flags);
  const caPem = await discoverHubCa(flags.hubApiserver, flags.hubToken, flags.caFile, log);
  const kubeconfig = bootstrapKubeconfig(flags.hubApiserver, caPem, flags.hubToken);
  const bootstrap = await KubeClient.fromString(kubeconfig);
  const managed = await clientFromFlags(flags);
  try {
    await checkBootstrapToken(bootstrap, flags.clusterName);
    const steps = await planObjects(managed, [...(await readCrds("managed")), ...joinObjects(kubeconfig)]);
    const dir = resolve(flags.agentDir);
    const name = `agent-${flags.clusterName}`;
    steps.push(
      agentStep({
        mode: flags.agent,
        clusterName: flags.clusterName,
        logFile: join(dir, `${name}.log`),
        runningPid: flags.agent === "background" ? await backgroundPid(dir, name) : undefined,
      }),
    );
    return steps;
  } finally {
    bootstrap.close();
    managed.close();
  }
}

interface UnjoinFlags extends KubeFlags {
  clusterName: string;
  agentDir: string;
  keepApplied?: boolean;
  dryRun?: boolean;
}

/** `bosun unjoin --dry-run`: what unjoin finds on the cluster, read with GETs and one list. */
export async function planUnjoin(managed: KubeClient, flags: UnjoinFlags): Promise<PlanStep[]> {
  const applied = await managed
    .listAll<AppliedManifestWork>(
      Resources.AppliedManifestWork.apiVersion,
      Resources.AppliedManifestWork.kind,
    )
    .then(
      (list) => list.items,
      (error: unknown) => {
        // No AppliedManifestWork API: nothing was ever applied here.
        if (error instanceof KubeApiError && error.notFound) return [];
        throw error;
      },
    );
  const secrets: string[] = [];
  for (const name of [Secrets.hubKubeconfig, Secrets.bootstrapHubKubeconfig]) {
    if (await managed.getOrUndefined({ apiVersion: "v1", kind: "Secret", name, namespace: Namespaces.agent }))
      secrets.push(name);
  }
  const namespace = await managed.getOrUndefined({
    apiVersion: "v1",
    kind: "Namespace",
    name: Namespaces.agent,
  });
  return unjoinSteps({
    clusterName: flags.clusterName,
    keepApplied: flags.keepApplied === true,
    runningPid: await backgroundPid(resolve(flags.agentDir), `agent-${flags.clusterName}`),
    applied,
    secrets,
    namespacePresent: namespace !== undefined,
  });
}

/**
 * `bosun join --deploy`: the agent as a Deployment on the managed cluster (deploy/agent with
 * the cluster name, the image and the bootstrap Secret filled in) printed, or with --apply
 * applied after the managed-cluster CRDs. Either way the token is checked with the hub first.
 */
export async function deployAgent(
  flags: JoinFlags & DeployFlags,
  log: (line: string) => void,
  print: (text: string) => void,
): Promise<void> {
  checkJoinFlags(flags);
  const caPem = await discoverHubCa(flags.hubApiserver, flags.hubToken, flags.caFile, log);
  const kubeconfig = bootstrapKubeconfig(flags.hubApiserver, caPem, flags.hubToken);
  const bootstrap = await KubeClient.fromString(kubeconfig);
  try {
    await checkBootstrapToken(bootstrap, flags.clusterName);
    const objects = agentDeployManifests(await readDeployManifests("agent"), {
      clusterName: flags.clusterName,
      image: flags.image,
      bootstrapKubeconfig: kubeconfig,
    });
    if (!flags.apply) {
      print(manifestStream(objects));
      return;
    }
    const managed = await clientFromFlags(flags);
    try {
      await installCrds(managed, "managed", { onProgress: log });
      await applyManifests(managed, objects, log);
    } finally {
      managed.close();
    }
    log(`\nOn the hub, accept the cluster with:\n  bosun accept --clusters ${flags.clusterName}\n`);
    if (flags.wait) await waitForJoined(bootstrap, flags.clusterName, Number(flags.timeout) * 1000, log);
  } finally {
    bootstrap.close();
  }
}

/** Reports progress until the hub shows the cluster Joined, reading it with the bootstrap identity. */
async function waitForJoined(
  hub: KubeClient,
  cluster: string,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const object = await hub
      .getOrUndefined<ManagedCluster>({
        apiVersion: Resources.ManagedCluster.apiVersion,
        kind: "ManagedCluster",
        name: cluster,
      })
      .catch(() => undefined);
    const joined =
      findCondition(object?.status?.conditions, ManagedClusterConditions.joined)?.status === "True";
    const state = !object
      ? "waiting for the agent to register the cluster"
      : !object.spec?.hubAcceptsClient
        ? "waiting for the hub to accept the cluster"
        : joined
          ? "joined"
          : "accepted; waiting for the agent to join";
    if (state !== last) log(`${cluster}: ${state}`);
    last = state;
    if (joined) return;
    if (Date.now() > deadline)
      throw new Error(`${cluster} did not join within ${timeoutMs / 1000} s (last: ${state})`);
    await sleep(1000);
  }
}

export function registerJoin(program: Command): void {
  addKubeFlags(
    program.command("join").description("join this cluster to a hub (run against the managed cluster)"),
    "the managed cluster",
  )
    .requiredOption("--hub-token <token>", "the bootstrap token printed by `bosun init` or `bosun get token`")
    .requiredOption("--hub-apiserver <url>", "the hub's API server URL")
    .requiredOption("--cluster-name <name>", "this cluster's name on the hub")
    .option(
      "--ca-file <file>",
      "the hub's CA certificate (PEM); read from the hub's cluster-info when absent",
    )
    .option("--wait", "wait until the hub has accepted the cluster and the agent has joined")
    .option("--timeout <seconds>", "how long --wait waits", "600")
    .option(
      "--agent <mode>",
      "background: start the agent as a background process; none: leave it to a deployment",
      "background",
    )
    .option("--agent-dir <dir>", "where background agents keep their logs and pid files", defaultAgentDir())
    .option("--client-cert-expiration-seconds <n>", "lifetime of the agent's client certificate")
    .option("--deploy", "print the agent as a Deployment (deploy/agent, with its bootstrap Secret) instead")
    .option("--apply", "with --deploy: install the managed-cluster APIs and apply it (server-side apply)")
    .option("--image <image>", "with --deploy: the bosun image the agent runs (default: bosun:latest)")
    .option(
      "--dry-run",
      "check the hub's CA and the token, print what would be written and started, and change nothing; not with --deploy or --wait",
    )
    .action(async (flags: JoinFlags & DeployFlags) => {
      checkDeployFlags(flags);
      checkDryRunFlags(flags);
      if (flags.dryRun) {
        const log = (line: string) => console.log(line);
        for (const line of planLines(
          `bosun join would join ${flags.clusterName}`,
          await planJoin(flags, log),
        ))
          log(line);
        log(`\nThen, on the hub, accept the cluster with:\n  bosun accept --clusters ${flags.clusterName}\n`);
        return;
      }
      if (!flags.deploy) return joinCluster(flags, (line) => console.log(line));
      // Printed manifests go to stdout alone, for `| kubectl apply -f -`; progress to stderr.
      const log = flags.apply ? (line: string) => console.log(line) : (line: string) => console.error(line);
      return deployAgent(flags, log, (text) => process.stdout.write(text));
    });

  addKubeFlags(
    program.command("unjoin").description("remove the agent and its hub credentials from this cluster"),
    "the managed cluster",
  )
    .requiredOption("--cluster-name <name>", "this cluster's name on the hub")
    .option("--agent-dir <dir>", "where background agents keep their logs and pid files", defaultAgentDir())
    .option(
      "--keep-applied",
      "keep every resource the cluster's ManifestWorks applied (they lose only their AppliedManifestWork owner); by default they are deleted",
    )
    .option(
      "--dry-run",
      "print what would be stopped and deleted (read from the cluster), and change nothing",
    )
    .action(async (flags: UnjoinFlags) => {
      const managed = await clientFromFlags(flags);
      try {
        if (flags.dryRun) {
          for (const line of planLines(
            `bosun unjoin would unjoin ${flags.clusterName}`,
            await planUnjoin(managed, flags),
          ))
            console.log(line);
          return;
        }
        // The agent goes first: running, it would apply the works again.
        if (await stopBackground(resolve(flags.agentDir), `agent-${flags.clusterName}`))
          console.log("stopped the agent");
        const mode = flags.keepApplied ? "orphan" : "delete";
        const release = await releaseAppliedWorks(managed, { mode }).catch((error: unknown) => {
          // No AppliedManifestWork API: nothing was ever applied here.
          if (error instanceof KubeApiError && error.notFound) return { released: [], remaining: [] };
          throw error;
        });
        for (const record of release.released) {
          console.log(
            mode === "orphan"
              ? `released AppliedManifestWork ${record.name}: ${record.orphaned} resources kept`
              : `removed AppliedManifestWork ${record.name}: ${record.deleted} resources deleted`,
          );
        }
        if (release.remaining.length > 0) {
          throw new Error(
            `${release.remaining.length} AppliedManifestWorks could not be released yet (${release.remaining
              .map((record) => `${record.name}: ${record.reason}`)
              .join("; ")}); run bosun unjoin again to carry on`,
          );
        }
        for (const name of [Secrets.hubKubeconfig, Secrets.bootstrapHubKubeconfig]) {
          await managed
            .delete({ apiVersion: "v1", kind: "Secret", name, namespace: Namespaces.agent })
            .catch((error: unknown) => {
              if (!(error instanceof KubeApiError && error.notFound)) throw error;
            });
        }
        await managed
          .delete({ apiVersion: "v1", kind: "Namespace", name: Namespaces.agent })
          .catch((error: unknown) => {
            if (!(error instanceof KubeApiError && error.notFound)) throw error;
          });
        console.log(
          `unjoined ${flags.clusterName}: its ManagedCluster stays on the hub and will turn Unknown`,
        );
      } finally {
        managed.close();
      }
    });
}
