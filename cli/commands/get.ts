// `bosun get token` and `bosun get clusters|clustersets|placements|decisions|works|replicasets|
// policies`: kubectl-style tables (-o wide adds columns), YAML or JSON, one namespace (-n),
// every namespace (-A), and -w to keep printing a row whenever an object changes.
import type { Command } from "commander";
import type { Logger } from "pino";
import { PolicyLabels, Resources } from "../../api/constants.ts";
import type { ManagedCluster, ManagedClusterSetBinding } from "../../api/types/cluster.ts";
import type { KubeObject } from "../../api/types/meta.ts";
import { hubEndpointOf } from "../../controllers/registration/bootstrap.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import { createLogger } from "../../runtime/logger.ts";
import { addKubeFlags, withKubeClient, type KubeFlags } from "../kube.ts";
import { outputOption } from "../output.ts";
import {
  byNamespaceAndName,
  clusterSetTable,
  clusterTable,
  decisionTable,
  getFormats,
  missingNamespaceMessage,
  noneFound,
  placementTable,
  policyTable,
  renderTable,
  replicaSetTable,
  rowContext,
  scopeOf,
  structured,
  withoutManagedFields,
  workTable,
  type GetFormat,
  type GetRequest,
  type Output,
  type RowContext,
  type TableOptions,
  type TableSpec,
} from "./get-tables.ts";
import { watchObjects } from "./get-watch.ts";
import { untilSignalled } from "./hub.ts";
import { joinCommand, joinToken, type TokenFlags } from "./init.ts";

// The tables, for the demo, compliance and the tests.
export {
  clusterRow,
  clustersTable,
  formatTable,
  humanAge,
  policiesTable,
  replicaSetsTable,
  worksTable,
} from "./get-tables.ts";

// Reading the hub -----------------------------------------------------------------------------

async function namespaceMissing(client: KubeApi, namespace: string): Promise<boolean> {
  try {
    await client.get({ apiVersion: "v1", kind: "Namespace", name: namespace });
    return false;
  } catch (error) {
    // Not allowed to read namespaces: say nothing rather than guess.
    if (error instanceof KubeApiError && error.notFound) return true;
    return false;
  }
}

/** The related objects a table's cells read. */
export async function relatedObjects(
  client: KubeApi,
  spec: Pick<TableSpec, "related">,
): Promise<Partial<RowContext>> {
  const related: Partial<RowContext> = {};
  if (spec.related?.includes("clusters"))
    related.clusters = (
      await client.listAll<ManagedCluster>(Resources.ManagedCluster.apiVersion, Resources.ManagedCluster.kind)
    ).items;
  if (spec.related?.includes("bindings"))
    related.bindings = (
      await client.listAll<ManagedClusterSetBinding>(
        Resources.ManagedClusterSetBinding.apiVersion,
        Resources.ManagedClusterSetBinding.kind,
      )
    ).items;
  return related;
}

async function fetchObjects<T extends KubeObject>(
  client: KubeApi,
  spec: TableSpec<T>,
  request: GetRequest,
): Promise<T[]> {
  const { namespace, explicit } = request.scope;
  if (request.name !== undefined) {
    let object: T | undefined;
    if (spec.namespaced && namespace === undefined) {
      // A name in every namespace (works without -n): whichever namespaces hold one.
      const { items } = await client.listAll<T>(spec.apiVersion, spec.kind, {
        fieldSelector: `metadata.name=${request.name}`,
      });
      if (items.length > 0) return items.map(withoutManagedFields).sort(byNamespaceAndName);
    } else {
      object = await client.getOrUndefined<T>({
        apiVersion: spec.apiVersion,
        kind: spec.kind,
        name: request.name,
        namespace,
      });
    }
    if (object) return [withoutManagedFields(object)];
    if (explicit && namespace !== undefined && (await namespaceMissing(client, namespace)))
      throw new Error(missingNamespaceMessage(spec, namespace));
    const where = !spec.namespaced
      ? ""
      : namespace === undefined
        ? " in any namespace"
        : ` in namespace ${namespace}`;
    throw new Error(
      `${spec.kind} ${request.name} not found${where} on the hub (bosun get ${spec.command} lists them)`,
    );
  }
  const { items } = await client.listAll<T>(spec.apiVersion, spec.kind, {
    namespace,
    labelSelector: request.labelSelector,
  });
  if (
    items.length === 0 &&
    explicit &&
    namespace !== undefined &&
    (await namespaceMissing(client, namespace))
  )
    throw new Error(missingNamespaceMessage(spec, namespace));
  return items.map(withoutManagedFields).sort(byNamespaceAndName);
}

/** Prints what `request` asks for; with watch, keeps printing changes until `signal` aborts. */
export async function runGet<T extends KubeObject>(
  client: KubeApi,
  spec: TableSpec<T>,
  request: GetRequest,
  output: Output,
  options: { now?: () => number; signal?: AbortSignal; logger?: Logger } = {},
): Promise<void> {
  const now = options.now ?? Date.now;
  const objects = await fetchObjects(client, spec, request);
  const related = await relatedObjects(client, spec);
  const tableOptions: TableOptions = {
    wide: request.output === "wide",
    withNamespace: spec.namespaced && request.scope.namespace === undefined,
  };
  if (request.watch) {
    await watchObjects(client, spec, request, tableOptions, { objects, related }, output, {
      now,
      signal: options.signal ?? new AbortController().signal,
      logger:
        options.logger ?? createLogger({ name: "bosun-get", level: "warn", destination: process.stderr }),
    });
    return;
  }
  if (request.output === "yaml" || request.output === "json") {
    const document =
      request.name !== undefined ? objects[0] : { apiVersion: "v1", kind: "List", items: objects };
    output.out.write(`${structured(document, request.output)}\n`);
  } else if (objects.length === 0) {
    output.err.write(`${noneFound(spec, request.scope.namespace)}\n`);
  } else {
    output.out.write(`${renderTable(spec, objects, rowContext(now(), related), tableOptions)}\n`);
  }
}

// The command ---------------------------------------------------------------------------------

interface GetFlags extends KubeFlags {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  output: GetFormat;
  watch?: boolean;
  outputWatchEvents?: boolean;
  replicas?: boolean;
}

function addListCommand<T extends KubeObject>(
  get: Command,
  names: [string, ...string[]],
  description: string,
  spec: TableSpec<T>,
  extra: { flags?: (command: Command) => void; selector?: (flags: GetFlags) => string | undefined } = {},
): void {
  const [commandName, ...aliases] = names;
  const command = get
    .command(commandName)
    .aliases(aliases)
    .description(description)
    .argument("[name]", "only this object");
  if (spec.namespaced) {
    const defaultScope = spec.allNamespacesByDefault
      ? "default: every namespace"
      : "default: the context's namespace, else default";
    command
      .option("-n, --namespace <namespace>", `only this namespace (${defaultScope})`)
      .option("-A, --all-namespaces", "every namespace");
  }
  command
    .option("-l, --selector <selector>", "only objects whose labels match (e.g. env=prod,tier!=web)")
    .addOption(outputOption(getFormats, "table"))
    .option("-w, --watch", "after the list, print a row whenever an object changes, until interrupted")
    .option(
      "--output-watch-events",
      "with --watch: start each row with its event (ADDED, MODIFIED, DELETED)",
    );
  extra.flags?.(command);
  addKubeFlags(command, "the hub").action(async function (
    this: Command,
    objectName: string | undefined,
    flags: GetFlags,
  ) {
    if (flags.allNamespaces && flags.namespace !== undefined)
      this.error("error: give -n or -A, not both", { exitCode: 2, code: "bosun.usage" });
    if (flags.allNamespaces && objectName !== undefined)
      this.error("error: a NAME is looked up in one namespace: give -n, not -A", {
        exitCode: 2,
        code: "bosun.usage",
      });
    const stop = new AbortController();
    // A watch runs until interrupted (Ctrl-C) and then ends normally.
    if (flags.watch) void untilSignalled().then(() => stop.abort());
    await withKubeClient(flags, async (client, target) => {
      const labelSelector = [flags.selector, extra.selector?.(flags)].filter(Boolean).join(",") || undefined;
      await runGet(
        client,
        spec,
        {
          ...(objectName !== undefined ? { name: objectName } : {}),
          scope: scopeOf(spec, flags, target.namespace),
          labelSelector,
          output: flags.output,
          watch: flags.watch,
          watchEvents: flags.outputWatchEvents,
        },
        { out: process.stdout, err: process.stderr },
        { signal: stop.signal },
      );
    });
  });
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
    .addOption(outputOption(["text", "json"], "text"))
    .action(async (flags: TokenFlags) => {
      await withKubeClient(flags, async (client) => {
        const token = await joinToken(client, flags);
        const server = hubEndpointOf(client).server;
        if (flags.output === "json")
          console.log(JSON.stringify({ hubToken: token, hubApiserver: server }, null, 2));
        else
          console.log(
            `token=${token}\nplease log on the managed cluster and run:\n  ${joinCommand(token, server)}`,
          );
      });
    });
  addListCommand(
    get,
    ["clusters", "cluster", "managedclusters", "mcl"],
    "list the managed clusters",
    clusterTable,
  );
  addListCommand(
    get,
    ["clustersets", "clusterset", "managedclustersets", "mclset"],
    "list the ManagedClusterSets: selector, member count and the namespaces bound to each",
    clusterSetTable,
  );
  addListCommand(
    get,
    ["placements", "placement"],
    "list Placements: satisfied, how many clusters they selected and why",
    placementTable,
  );
  addListCommand(
    get,
    ["decisions", "decision", "placementdecisions"],
    "list PlacementDecisions: placement, decision group and clusters",
    decisionTable,
  );
  addListCommand(
    get,
    ["works", "work", "manifestworks"],
    "list ManifestWorks: every cluster's, or one cluster's with -n",
    workTable,
  );
  addListCommand(
    get,
    ["replicasets", "replicaset", "mwrs"],
    "list ManifestWorkReplicaSets and their rollout",
    replicaSetTable,
  );
  addListCommand(
    get,
    ["policies", "policy", "plc"],
    "list root Policies (and, with --replicas, the replicated ones)",
    policyTable,
    {
      flags: (command) =>
        command.option("--replicas", "include the replicated Policies in the cluster namespaces"),
      selector: (flags) => (flags.replicas ? undefined : `!${PolicyLabels.rootPolicy}`),
    },
  );
}
