// `bosun init`: prepares a hub (CRDs, bootstrap identity, cluster-info) and prints the join command.
import type { Command } from "commander";
import { HubInfo, Namespaces, Secrets } from "../../api/constants.ts";
import {
  bootstrapGroupBinding,
  bootstrapIdentityObjects,
  ensureBootstrapIdentity,
  ensureBootstrapToken,
  hubEndpointOf,
  mintBootstrapToken,
  type HubEndpoint,
} from "../../controllers/registration/bootstrap.ts";
import { detachedSignature } from "../../runtime/bootstrap-signature.ts";
import { installCrds, readCrds } from "../../runtime/crds.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { bootstrapTokenSteps, checkDryRunFlags, planLines, planObjects, type PlanStep } from "./dry-run.ts";
import {
  applyManifests,
  checkDeployFlags,
  hubDeployManifests,
  manifestStream,
  readDeployManifests,
  type DeployFlags,
} from "./deploy-manifests.ts";
import { addKubeFlags, clientFromFlags, type KubeFlags } from "../kube.ts";
import { outputOption } from "../output.ts";
import type { KubeClient } from "../../runtime/kube/client.ts";

export interface TokenFlags extends KubeFlags {
  useBootstrapToken?: boolean;
  output?: string;
}

/** What the join command shows in place of a token that a dry run does not issue. */
export const placeholderToken = "<hub_token>";

export async function joinToken(client: KubeClient, flags: TokenFlags): Promise<string> {
  return flags.useBootstrapToken ? ensureBootstrapToken(client) : mintBootstrapToken(client, 3600);
}

export function joinCommand(token: string, server: string): string {
  return `bosun join --hub-token ${token} --hub-apiserver ${server} --cluster-name <cluster_name>`;
}

export function printJoin(token: string, server: string, output: string | undefined): void {
  if (output === "json") {
    console.log(
      JSON.stringify(
        { hubToken: token, hubApiserver: server, joinCommand: joinCommand(token, server) },
        null,
        2,
      ),
    );
    return;
  }
  console.log("The hub is ready. On each managed cluster, run (replace <cluster_name>):\n");
  console.log(`  ${joinCommand(token, server)}\n`);
}

/**
 * What `bosun init` would do on this hub, read with GETs only: each CRD and bootstrap
 * identity object created, updated or unchanged, and the token it would issue.
 */
export async function planInit(
  client: KubeApi,
  hub: HubEndpoint,
  useBootstrapToken: boolean,
): Promise<PlanStep[]> {
  const identity = bootstrapIdentityObjects(hub);
  const steps = [
    ...(await planObjects(client, await readCrds("hub"))),
    ...(await planObjects(client, identity)),
  ];
  if (!useBootstrapToken) {
    steps.push({
      action: "mint",
      kind: "token for ServiceAccount",
      name: HubInfo.bootstrapServiceAccount,
      namespace: Namespaces.operator,
      detail: "valid 1 hour; not issued in a dry run",
    });
    return steps;
  }
  const clusterInfo = identity.find((object) => object.metadata.name === HubInfo.clusterInfoConfigMap);
  const read = (apiVersion: string, kind: string, name: string, namespace?: string) =>
    client.getOrUndefined<Unstructured>({ apiVersion, kind, name, ...(namespace ? { namespace } : {}) });
  const groupBinding = bootstrapGroupBinding();
  steps.push(
    ...bootstrapTokenSteps(
      {
        secret: await read("v1", "Secret", Secrets.bootstrapToken, Namespaces.kubeSystem),
        clusterInfo: await read("v1", "ConfigMap", HubInfo.clusterInfoConfigMap, Namespaces.kubePublic),
        kubeconfig: (clusterInfo?.data as Record<string, string>).kubeconfig!,
        groupBinding,
        liveGroupBinding: await read(
          groupBinding.apiVersion,
          "ClusterRoleBinding",
          groupBinding.metadata.name!,
        ),
      },
      detachedSignature,
    ),
  );
  return steps;
}

export function printInitPlan(steps: PlanStep[], server: string, output: string | undefined): void {
  if (output === "json") {
    const joinCommandLine = joinCommand(placeholderToken, server);
    console.log(
      JSON.stringify({ dryRun: true, steps, hubApiserver: server, joinCommand: joinCommandLine }, null, 2),
    );
    return;
  }
  for (const line of planLines("bosun init would prepare the hub", steps)) console.log(line);
  console.log("\nThen, on each managed cluster (with the token a real run prints):\n");
  console.log(`  ${joinCommand(placeholderToken, server)}\n`);
}

export function registerInit(program: Command): void {
  addKubeFlags(
    program
      .command("init")
      .description("install bosun's hub APIs and bootstrap identity, and print the join command"),
    "the hub",
  )
    .option(
      "--use-bootstrap-token",
      "issue a Kubernetes bootstrap token (ocmhub.<secret>) instead of a 1-hour service-account token",
    )
    .addOption(outputOption(["text", "json"], "text"))
    .option("--deploy", "print the in-cluster hub (deploy/hub: RBAC, Deployment, Services) instead")
    .option("--apply", "with --deploy: prepare the hub as init does and apply them (server-side apply)")
    .option("--image <image>", "with --deploy: the bosun image the hub runs (default: bosun:latest)")
    .option(
      "--dry-run",
      "print what would be installed and issued (read from the hub), and change nothing; not with --deploy",
    )
    .action(async (flags: TokenFlags & DeployFlags & { dryRun?: boolean }) => {
      checkDeployFlags(flags);
      checkDryRunFlags(flags);
      const deployment = flags.deploy
        ? hubDeployManifests(await readDeployManifests("hub"), { image: flags.image })
        : [];
      if (flags.deploy && !flags.apply) {
        process.stdout.write(manifestStream(deployment));
        return;
      }
      const client = await clientFromFlags(flags);
      try {
        if (flags.dryRun) {
          const hub = hubEndpointOf(client);
          printInitPlan(
            await planInit(client, hub, flags.useBootstrapToken === true),
            hub.server,
            flags.output,
          );
          return;
        }
        const quiet = flags.output === "json";
        await installCrds(client, "hub", { onProgress: (message) => quiet || console.log(message) });
        const hub = hubEndpointOf(client);
        await ensureBootstrapIdentity(client, hub);
        await applyManifests(client, deployment, (message) => quiet || console.log(message));
        printJoin(await joinToken(client, flags), hub.server, flags.output);
      } finally {
        client.close();
      }
    });
}
