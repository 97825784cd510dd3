// Kubeconfig handling shared by every command, as kubectl does it: --kubeconfig (one file),
// else every file of $KUBECONFIG merged, else ~/.kube/config; --context picks a context. Also
// the translation of API errors into messages that say which credential was used and what
// to do next.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { KubeConfig, type Cluster, type Context, type User } from "@kubernetes/client-node";
import type { Command } from "commander";
import { KubeApiError } from "../runtime/errors.ts";
import { KubeClient, type KubeClientOptions } from "../runtime/kube/client.ts";
import { UnknownKindError } from "../runtime/kube/discovery.ts";

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
}

export function addKubeFlags(command: Command, what = "the cluster"): Command {
  return command
    .option("--kubeconfig <file>", `kubeconfig of ${what} (default: $KUBECONFIG or ~/.kube/config)`)
    .option("--context <name>", "the kubeconfig context to use");
}

// Finding and merging the files ---------------------------------------------------------------

export interface KubeconfigSources {
  /** The files to read, in precedence order. */
  files: string[];
  /** Where the list came from; $KUBECONFIG files that do not exist are skipped, as kubectl does. */
  origin: "--kubeconfig" | "$KUBECONFIG" | "~/.kube/config";
}

/** Which kubeconfig files apply, in kubectl's order of precedence. */
export function kubeconfigSources(
  flags: KubeFlags,
  env: { KUBECONFIG?: string | undefined },
  home: string,
): KubeconfigSources {
  if (flags.kubeconfig) return { files: [flags.kubeconfig], origin: "--kubeconfig" };
  const listed = [...new Set((env.KUBECONFIG ?? "").split(delimiter).filter((file) => file.length > 0))];
  if (listed.length > 0) return { files: listed, origin: "$KUBECONFIG" };
  return { files: [join(home, ".kube", "config")], origin: "~/.kube/config" };
}

export interface Named {
  readonly name: string;
}

/** One file's entries. */
export interface KubeconfigLayer<
  C extends Named = Cluster,
  U extends Named = User,
  X extends Named = Context,
> {
  file: string;
  clusters: readonly C[];
  users: readonly U[];
  contexts: readonly X[];
  currentContext?: string;
}

export interface MergedKubeconfig<
  C extends Named = Cluster,
  U extends Named = User,
  X extends Named = Context,
> {
  clusters: C[];
  users: U[];
  contexts: X[];
  currentContext?: string;
  /** The file each context was taken from. */
  contextFiles: Map<string, string>;
  files: string[];
}

/**
 * Merges kubeconfig files as kubectl does: for clusters, users and contexts, the first file
 * to define a name wins (later definitions of it are ignored, not merged field by field);
 * current-context comes from the first file that sets one.
 */
export function mergeKubeconfigs<C extends Named, U extends Named, X extends Named>(
  layers: readonly KubeconfigLayer<C, U, X>[],
): MergedKubeconfig<C, U, X> {
  const firstByName = <T extends Named>(lists: (readonly T[])[]): T[] => {
    const seen = new Map<string, T>();
    for (const list of lists)
      for (const entry of list) if (!seen.has(entry.name)) seen.set(entry.name, entry);
    return [...seen.values()];
  };
  const contextFiles = new Map<string, string>();
  for (const layer of layers)
    for (const context of layer.contexts)
      if (!contextFiles.has(context.name)) contextFiles.set(context.name, layer.file);
  return {
    clusters: firstByName(layers.map((layer) => layer.clusters)),
    users: firstByName(layers.map((layer) => layer.users)),
    contexts: firstByName(layers.map((layer) => layer.contexts)),
    currentContext: layers.find((layer) => layer.currentContext)?.currentContext,
    contextFiles,
    files: layers.map((layer) => layer.file),
  };
}

/** A kubeconfig that cannot be used as asked: no file, an unknown context, a dangling reference. */
export class KubeconfigError extends Error {
  override name = "KubeconfigError";
}

function fileList(files: readonly string[]): string {
  return files.length === 1 ? files[0]! : `${files.join(", ")} (merged)`;
}

/**
 * The context to use: `requested` (--context) or the merged current-context. An unknown
 * name is an error that names it and lists the contexts there are.
 */
export function selectContext<X extends Named & { cluster: string; user: string }>(
  merged: MergedKubeconfig<Named, Named, X>,
  requested: string | undefined,
): X {
  const available = merged.contexts.map((context) => context.name);
  const choices =
    available.length > 0 ? `available contexts: ${available.join(", ")}` : "it defines no contexts";
  const name = requested ?? merged.currentContext;
  if (!name) {
    throw new KubeconfigError(
      `${fileList(merged.files)} sets no current-context; pass --context (${choices})`,
    );
  }
  const context = merged.contexts.find((candidate) => candidate.name === name);
  if (!context) {
    const how = requested ? "--context" : "current-context";
    throw new KubeconfigError(`${how} "${name}" is not in ${fileList(merged.files)}; ${choices}`);
  }
  if (!merged.clusters.some((cluster) => cluster.name === context.cluster))
    throw new KubeconfigError(
      `context "${name}" names cluster "${context.cluster}", which ${fileList(merged.files)} does not define`,
    );
  if (!merged.users.some((user) => user.name === context.user))
    throw new KubeconfigError(
      `context "${name}" names user "${context.user}", which ${fileList(merged.files)} does not define`,
    );
  return context;
}

// Loading -------------------------------------------------------------------------------------

/** The API server and credential a command talks to, and where they were configured. */
export interface KubeTarget {
  kubeConfig: KubeConfig;
  /** The files that were read. */
  files: string[];
  context: string;
  /** The file the context came from. */
  contextFile: string;
  user: string;
  cluster: string;
  server: string;
  /** The context's namespace, when it sets one. */
  namespace?: string;
}

function readLayer(file: string): KubeconfigLayer {
  const config = new KubeConfig();
  try {
    // Relative certificate and key paths are resolved against the file's directory here.
    config.loadFromFile(file);
  } catch (error) {
    throw new KubeconfigError(`cannot read kubeconfig ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    file,
    clusters: config.getClusters(),
    users: config.getUsers(),
    contexts: config.getContexts(),
    currentContext: config.getCurrentContext() || undefined,
  };
}

/** Reads, merges and resolves the kubeconfig the flags and the environment point at. */
export function loadKubeconfig(
  flags: KubeFlags,
  env: { KUBECONFIG?: string | undefined } = process.env,
  home: string = homedir(),
): KubeTarget {
  const sources = kubeconfigSources(flags, env, home);
  const files = sources.files.filter((file) => existsSync(file));
  if (files.length === 0) {
    const tried = sources.files.join(", ");
    throw new KubeconfigError(
      sources.origin === "--kubeconfig"
        ? `--kubeconfig ${tried}: no such file`
        : `no kubeconfig found (${sources.origin}: ${tried}); pass --kubeconfig`,
    );
  }
  const merged = mergeKubeconfigs(files.map(readLayer));
  const context = selectContext(merged, flags.context);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: merged.clusters,
    users: merged.users,
    contexts: merged.contexts,
    currentContext: context.name,
  });
  return {
    kubeConfig,
    files,
    context: context.name,
    contextFile: merged.contextFiles.get(context.name) ?? files[0]!,
    user: context.user,
    cluster: context.cluster,
    server: (kubeConfig.getCurrentCluster()?.server ?? "").replace(/\/+$/, ""),
    ...(context.namespace ? { namespace: context.namespace } : {}),
  };
}

export async function clientFor(target: KubeTarget, options: KubeClientOptions = {}): Promise<KubeClient> {
  return KubeClient.fromKubeConfig(target.kubeConfig, { userAgent: "bosun-cli", ...options });
}

export async function clientFromFlags(
  flags: KubeFlags,
  options: KubeClientOptions = {},
): Promise<KubeClient> {
  return clientFor(loadKubeconfig(flags), options);
}

/**
 * The flags that make a child `bosun` process use the same kubeconfig and context. With
 * several $KUBECONFIG files there is no single file to name: the child inherits $KUBECONFIG.
 */
export function kubeconfigArgs(target: Pick<KubeTarget, "files" | "context">): string[] {
  return [
    ...(target.files.length === 1 ? ["--kubeconfig", target.files[0]!] : []),
    "--context",
    target.context,
  ];
}

/**
 * Opens a client for the flags, runs `work` with it and closes it; API and network errors
 * come back as messages that name the credential, the server and what to try next.
 */
export async function withKubeClient<T>(
  flags: KubeFlags,
  work: (client: KubeClient, target: KubeTarget) => Promise<T>,
  options: KubeClientOptions = {},
): Promise<T> {
  const target = loadKubeconfig(flags);
  const client = await clientFor(target, options);
  try {
    return await work(client, target);
  } catch (error) {
    throw explainKubeError(error, target);
  } finally {
    client.close();
  }
}

// Errors --------------------------------------------------------------------------------------

function credential(target: Pick<KubeTarget, "user" | "context" | "contextFile">): string {
  return `user "${target.user}" of context "${target.context}" (${target.contextFile})`;
}

/** What a 403 message from the API server says is missing. */
export interface MissingPermission {
  subject: string;
  verb: string;
  resource: string;
  group: string;
  /** Absent: cluster-wide. */
  namespace?: string;
}

const forbiddenPattern =
  /User "([^"]*)" cannot (\w+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)")?/;

export function missingPermission(message: string): MissingPermission | undefined {
  const match = forbiddenPattern.exec(message);
  if (!match) return undefined;
  return {
    subject: match[1]!,
    verb: match[2]!,
    resource: match[3]!,
    group: match[4] ?? "",
    ...(match[5] ? { namespace: match[5] } : {}),
  };
}

function rbacAdvice(missing: MissingPermission): string {
  const resource = missing.group ? `${missing.resource}.${missing.group}` : missing.resource;
  const serviceAccount = /^system:serviceaccount:([^:]+):(.+)$/.exec(missing.subject);
  const subject = serviceAccount
    ? `ServiceAccount ${serviceAccount[1]}/${serviceAccount[2]}`
    : `User "${missing.subject}"`;
  const where = missing.namespace
    ? `in namespace ${missing.namespace} (a Role or ClusterRole bound by a RoleBinding in ${missing.namespace})`
    : "cluster-wide (a ClusterRole bound by a ClusterRoleBinding)";
  return `it needs RBAC permission to ${missing.verb} ${resource} ${where} for ${subject}`;
}

const networkProblems: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "name lookup failed",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "connection reset",
};

const tlsProblems = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** The system error code of a failed connection, looking into AggregateErrors and causes. */
export function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === "string") return code;
    current = current instanceof AggregateError ? current.errors[0] : current.cause;
  }
  return undefined;
}

/**
 * An error a user can act on: a 401 names the credential, a 403 also the missing RBAC, a
 * connection failure the server and the flags to check, a missing kind the CRDs. Other
 * errors are returned as they are.
 */
export function explainKubeError(
  error: unknown,
  target: Pick<KubeTarget, "user" | "context" | "contextFile" | "server">,
): unknown {
  if (error instanceof KubeApiError && error.status === 401) {
    return new Error(
      `${target.server} rejected the credential of ${credential(target)} (401 Unauthorized): it is missing, expired or not trusted there; renew it, or pick another with --kubeconfig/--context`,
      { cause: error },
    );
  }
  if (error instanceof KubeApiError && error.status === 403) {
    const missing = missingPermission(error.message);
    const known = missing ? ` (known to the server as "${missing.subject}")` : "";
    const advice = missing ? rbacAdvice(missing) : error.message;
    return new Error(
      `${credential(target)}${known} is not allowed this on ${target.server} (403 Forbidden): ${advice}; or pick another credential with --kubeconfig/--context`,
      { cause: error },
    );
  }
  if (error instanceof UnknownKindError) {
    return new Error(
      `${target.server} does not serve ${error.kind} (${error.apiVersion}): are bosun's CRDs installed? (bosun init on a hub, bosun join on a managed cluster)`,
      { cause: error },
    );
  }
  const code = errorCode(error);
  if (code && (networkProblems[code] || tlsProblems.has(code))) {
    const problem = networkProblems[code] ?? `TLS: ${code}; does the kubeconfig hold the server's CA?`;
    return new Error(
      `cannot reach the API server at ${target.server} (${problem}) for context "${target.context}" of ${target.contextFile}: check --kubeconfig and --context, and that the server runs`,
      { cause: error },
    );
  }
  return error;
}
