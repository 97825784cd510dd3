// `bosun init`: prepares a hub (CRDs, bootstrap identity, cluster-info) and prints the join command.
import type { Command } from "commander";
import {
  ensureBootstrapIdentity,
  ensureBootstrapToken,
  hubEndpointOf,
  mintBootstrapToken,
} from "../../controllers/registration/bootstrap.ts";
import { installCrds } from "../../runtime/crds.ts";
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
    .action(async (flags: TokenFlags & DeployFlags) => {
      checkDeployFlags(flags);
      const deployment = flags.deploy
        ? hubDeployManifests(await readDeployManifests("hub"), { image: flags.image })
        : [];
      if (flags.deploy && !flags.apply) {
        process.stdout.write(manifestStream(deployment));
        return;
      }
      const client = await clientFromFlags(flags);
      try {
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
