// The in-cluster install of `bosun init --deploy` and `bosun join --deploy`: the objects of
// deploy/hub/ and deploy/agent/, read from the package at run time (the image holds them too),
// with the image, the cluster name and the bootstrap kubeconfig filled in. The Helm chart in
// deploy/helm/bosun renders the same objects (test/integration/helm.test.ts compares them).
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { Namespaces, SecretKeys, Secrets } from "../../api/constants.ts";
import { applyServerSide } from "../../runtime/apply.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";

export type DeployComponent = "hub" | "agent";

/** Where the manifests live: deploy/ beside cli/ in the checkout and in the image. */
export const deployRoot = join(import.meta.dirname, "..", "..", "deploy");

/** The field manager of `--deploy --apply`. */
export const deployFieldManager = "bosun-deploy";

/** The agent Deployment's stand-in for the cluster name in deploy/agent/30-deployment.yaml. */
export const clusterNamePlaceholder = "CLUSTER_NAME";

/** The flags `bosun init` and `bosun join` take for an in-cluster install. */
export interface DeployFlags {
  deploy?: boolean;
  apply?: boolean;
  image?: string;
}

/** --apply and --image only mean something with --deploy. */
export function checkDeployFlags(flags: DeployFlags): void {
  if (flags.deploy) return;
  const stray = [flags.apply ? "--apply" : "", flags.image !== undefined ? "--image" : ""].filter(Boolean);
  if (stray.length > 0)
    throw new Error(`${stray.join(" and ")} ${stray.length > 1 ? "go" : "goes"} with --deploy`);
}

/** The objects of a YAML stream, empty documents left out. */
export function parseManifests(text: string, source: string): Unstructured[] {
  return parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0) {
      throw new Error(`${source}: ${document.errors[0]!.message}`, { cause: document.errors[0] });
    }
    const object = document.toJS() as Unstructured | null;
    return object === null ? [] : [object];
  });
}

/** The objects of deploy/<component>/*.yaml, in file order (namespace first). */
export async function readDeployManifests(
  component: DeployComponent,
  root: string = deployRoot,
): Promise<Unstructured[]> {
  const dir = join(root, component);
  const files = (await readdir(dir)).filter((file) => file.endsWith(".yaml")).sort();
  const parsed = await Promise.all(
    files.map(async (file) => parseManifests(await readFile(join(dir, file), "utf8"), join(dir, file))),
  );
  return parsed.flat();
}

interface Container {
  name: string;
  image?: string;
  command?: string[];
}

function containersOf(object: Unstructured): Container[] {
  const spec = object.spec as { template?: { spec?: { containers?: Container[] } } } | undefined;
  return spec?.template?.spec?.containers ?? [];
}

/** A deep copy, so that the objects read once can be filled in more than once. */
const copyOf = (objects: Unstructured[]): Unstructured[] => structuredClone(objects);

function withImage(objects: Unstructured[], image: string | undefined): Unstructured[] {
  if (image === undefined) return objects;
  if (image.trim() === "") throw new Error("--image must name an image");
  for (const object of objects) for (const container of containersOf(object)) container.image = image;
  return objects;
}

export interface HubDeployOptions {
  /** The bosun image the hub runs (default: the manifests', bosun:latest). */
  image?: string;
}

/** The hub's in-cluster objects: deploy/hub with the image filled in. */
export function hubDeployManifests(objects: Unstructured[], options: HubDeployOptions = {}): Unstructured[] {
  return withImage(copyOf(objects), options.image);
}

export interface AgentDeployOptions {
  clusterName: string;
  image?: string;
  /** The bootstrap kubeconfig (hub URL, CA, token); when given, its Secret comes before the Deployment. */
  bootstrapKubeconfig?: string;
}

/** The Secret the agent joins with, as `bosun join` writes it. */
export function bootstrapSecret(kubeconfig: string): Unstructured {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: Secrets.bootstrapHubKubeconfig, namespace: Namespaces.agent },
    type: "Opaque",
    data: { [SecretKeys.kubeconfig]: Buffer.from(kubeconfig).toString("base64") },
  };
}

/**
 * The agent's in-cluster objects: deploy/agent with the cluster name in the Deployment's
 * `--cluster-name`, the image, and the bootstrap Secret when a kubeconfig is given.
 */
export function agentDeployManifests(objects: Unstructured[], options: AgentDeployOptions): Unstructured[] {
  const filled = withImage(copyOf(objects), options.image);
  let named = 0;
  for (const object of filled) {
    for (const container of containersOf(object)) {
      const command = container.command ?? [];
      const index = command.indexOf("--cluster-name");
      if (index >= 0 && index + 1 < command.length) {
        command[index + 1] = options.clusterName;
        named++;
      }
    }
  }
  if (named !== 1) {
    throw new Error(
      `expected one container with --cluster-name in ${join(deployRoot, "agent")}, found ${named}`,
    );
  }
  if (options.bootstrapKubeconfig === undefined) return filled;
  const deployment = filled.findIndex((object) => object.kind === "Deployment");
  filled.splice(deployment, 0, bootstrapSecret(options.bootstrapKubeconfig));
  return filled;
}

/** The objects as one YAML stream, for `kubectl apply -f -`. */
export function manifestStream(objects: Unstructured[]): string {
  return objects.map((object) => stringify(object, { lineWidth: 0 })).join("---\n");
}

/** Applies the objects in order (namespaces first) with server-side apply, taking over conflicting fields. */
export async function applyManifests(
  client: KubeApi,
  objects: Unstructured[],
  log: (line: string) => void,
): Promise<void> {
  for (const object of objects) {
    await applyServerSide(client, object, { fieldManager: deployFieldManager, force: true });
    const namespace = object.metadata.namespace ? `${object.metadata.namespace}/` : "";
    log(`applied ${object.kind} ${namespace}${object.metadata.name}`);
  }
}
