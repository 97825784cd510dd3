// bosun's raw dynamic client. @kubernetes/client-node re-serialises built-in kinds through
// typed models that drop fields they do not know, so arbitrary objects (user manifests,
// bosun's own kinds) travel through this client as plain JSON, with discovery mapping each
// apiVersion/kind to its resource and scope.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError } from "../errors.ts";
import { Discovery, type ResourceInfo } from "./discovery.ts";
import type { KubeList, KubeObject, ListOptions, Unstructured, WatchEvent, WatchOptions } from "./types.ts";

export type PatchType = "merge" | "json" | "strategic" | "apply";

const patchContentTypes: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

export interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Socket inactivity limit; watches pass 0 and rely on the server's timeoutSeconds and their own liveness checks. */
  timeoutMs?: number;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface KubeClientOptions {
  userAgent?: string;
  /** Default per-request socket inactivity timeout. */
  timeoutMs?: number;
  /**
   * How long an idle keep-alive connection stays open (default: until the server closes it). A
   * process holding thousands of clients (a simulated fleet) closes them soon, so that a client
   * between two writes a minute apart holds no socket.
   */
  idleSocketTimeoutMs?: number;
}

/**
 * The calls controllers and the agent make on an API server: reading, listing and watching
 * objects, writing them, and raw requests. KubeClient is the implementation that talks to a
 * real server; code that needs more of it (discovery, the kubeconfig, the server's URL) takes
 * KubeClient itself.
 */
export type KubeApi = Pick<
  KubeClient,
  | "get"
  | "getOrUndefined"
  | "list"
  | "listAll"
  | "create"
  | "replace"
  | "patch"
  | "delete"
  | "watch"
  | "request"
>;

export class KubeClient {
  readonly server: string;
  readonly kubeConfig: KubeConfig;
  readonly discovery: Discovery;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #tls: Pick<RequestOptions, "ca" | "cert" | "key" | "rejectUnauthorized" | "servername">;
  readonly #staticHeaders: Record<string, string> | undefined;
  readonly #userAgent: string;
  readonly #timeoutMs: number;

  private constructor(
    kubeConfig: KubeConfig,
    tls: RequestOptions,
    staticHeaders: Record<string, string> | undefined,
    options: KubeClientOptions,
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    this.kubeConfig = kubeConfig;
    this.server = cluster.server.replace(/\/+$/, "");
    this.#tls = {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: tls.rejectUnauthorized,
      servername: tls.servername,
    };
    this.#staticHeaders = staticHeaders;
    // One keep-alive agent per credential: a client is bound to one user of one kubeconfig.
    // Node gives a socket back to the pool with the agent's timeout and destroys it once that
    // passes idle; a socket in use is only ended by its request's own timeout (a watch has none).
    const idle = options.idleSocketTimeoutMs === undefined ? {} : { timeout: options.idleSocketTimeoutMs };
    this.#agent = this.server.startsWith("https:")
      ? new HttpsAgent({ keepAlive: true, maxSockets: 64, ...idle, ...this.#tls })
      : new HttpAgent({ keepAlive: true, maxSockets: 64, ...idle });
    this.#userAgent = options.userAgent ?? "bosun";
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.discovery = new Discovery((path) => this.request({ method: "GET", path }));
  }

  static async fromKubeConfig(kubeConfig: KubeConfig, options: KubeClientOptions = {}): Promise<KubeClient> {
    const tls: RequestOptions = {};
    await kubeConfig.applyToHTTPSOptions(tls);
    const user = kubeConfig.getCurrentUser();
    // Exec plugins and auth providers mint short-lived tokens: ask the kubeconfig for
    // headers on every request. Static tokens and certificates are read once.
    const dynamic = Boolean(user?.exec || user?.authProvider);
    const headers = dynamic ? undefined : flattenHeaders(tls.headers);
    return new KubeClient(kubeConfig, tls, headers, options);
  }

  static async fromFile(
    path: string,
    options: KubeClientOptions & { context?: string } = {},
  ): Promise<KubeClient> {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(path);
    if (options.context) {
      // Without this check an unknown context surfaces as "no current cluster".
      if (!kubeConfig.getContextObject(options.context)) {
        const names = kubeConfig.getContexts().map((context) => context.name);
        throw new Error(
          `context "${options.context}" is not in ${path}; available contexts: ${names.join(", ") || "none"}`,
        );
      }
      kubeConfig.setCurrentContext(options.context);
    }
    return KubeClient.fromKubeConfig(kubeConfig, options);
  }

  static async fromString(text: string, options: KubeClientOptions = {}): Promise<KubeClient> {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(text);
    return KubeClient.fromKubeConfig(kubeConfig, options);
  }

  /**
   * A client of the same API server (same address and trusted CA) that authenticates with
   * `token` alone, never with this client's own credentials: requests made on behalf of a
   * service account, with its rights.
   */
  withBearerToken(token: string, options: KubeClientOptions = {}): KubeClient {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [cluster],
      users: [{ name: "bearer-token", token }],
      contexts: [{ name: "bearer-token", cluster: cluster.name, user: "bearer-token" }],
      currentContext: "bearer-token",
    });
    const { ca, rejectUnauthorized, servername } = this.#tls;
    return new KubeClient(
      kubeConfig,
      { ca, rejectUnauthorized, servername },
      { authorization: `Bearer ${token}` },
      { userAgent: this.#userAgent, timeoutMs: this.#timeoutMs, ...options },
    );
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  async #headers(): Promise<Record<string, string>> {
    if (this.#staticHeaders) return this.#staticHeaders;
    const options: RequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(options);
    return flattenHeaders(options.headers);
  }

  async #open(spec: RequestSpec): Promise<IncomingMessage> {
    const url = new URL(this.server + spec.path);
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined && value !== "") url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      ...(await this.#headers()),
      accept: "application/json",
      "user-agent": this.#userAgent,
    };
    let payload: string | undefined;
    if (spec.body !== undefined) {
      payload = typeof spec.body === "string" ? spec.body : JSON.stringify(spec.body);
      headers["content-type"] = spec.contentType ?? "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(
        url,
        { method: spec.method, headers, agent: this.#agent, signal: spec.signal },
        resolve,
      );
      const timeoutMs = spec.timeoutMs ?? this.#timeoutMs;
      if (timeoutMs > 0) {
        request.setTimeout(timeoutMs, () =>
          request.destroy(new Error(`${spec.method} ${url.pathname} timed out after ${timeoutMs} ms`)),
        );
      }
      request.once("error", reject);
      request.end(payload);
    });
  }

  /** Sends a request and returns the decoded JSON body; non-2xx answers throw KubeApiError. */
  async request<T = unknown>(spec: RequestSpec): Promise<T> {
    const text = await this.requestText(spec);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Sends a request and returns the body as text (e.g. /metrics); non-2xx answers throw KubeApiError. */
  async requestText(spec: RequestSpec): Promise<string> {
    const response = await this.#open(spec);
    const text = await readBody(response);
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) throw apiError(spec, status, text);
    return text;
  }

  /** The REST path of a resource collection or object. */
  async path(
    ref: { apiVersion: string; kind: string; name?: string; namespace?: string },
    subresource?: string,
  ) {
    const info = await this.discovery.resolve(ref.apiVersion, ref.kind);
    return resourcePath(info, ref.namespace, ref.name, subresource);
  }

  async get<T extends KubeObject = Unstructured>(ref: ObjectRef, signal?: AbortSignal): Promise<T> {
    return this.request<T>({ method: "GET", path: await this.path(ref), signal });
  }

  /** Like get, but undefined when the object does not exist. */
  async getOrUndefined<T extends KubeObject = Unstructured>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return await this.get<T>(ref);
    } catch (error) {
      if (error instanceof KubeApiError && error.notFound) return undefined;
      throw error;
    }
  }

  async list<T extends KubeObject = Unstructured>(
    apiVersion: string,
    kind: string,
    options: ListOptions = {},
  ): Promise<KubeList<T>> {
    const path = await this.path({ apiVersion, kind, namespace: options.namespace });
    return this.request<KubeList<T>>({
      method: "GET",
      path,
      signal: options.signal,
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        resourceVersion: options.resourceVersion,
        resourceVersionMatch: options.resourceVersionMatch,
        limit: options.limit,
        continue: options.continue,
      },
    });
  }

  /** Lists every page and returns the items with the resourceVersion of the whole list. */
  async listAll<T extends KubeObject = Unstructured>(
    apiVersion: string,
    kind: string,
    options: Omit<ListOptions, "continue"> = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = "";
    do {
      const page = await this.list<T>(apiVersion, kind, { limit: 500, ...options, continue: continueToken });
      // Items of a list carry no apiVersion/kind of their own.
      items.push(...page.items.map((item) => ({ ...item, apiVersion, kind })));
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion ?? resourceVersion;
    } while (continueToken);
    return { items, resourceVersion };
  }

  async create<T extends KubeObject>(
    object: T,
    options: { dryRun?: boolean; fieldManager?: string } = {},
  ): Promise<T> {
    const path = await this.path({ ...object, name: undefined, namespace: object.metadata.namespace });
    return this.request<T>({
      method: "POST",
      path,
      body: object,
      query: { dryRun: options.dryRun ? "All" : undefined, fieldManager: options.fieldManager },
    });
  }

  /** PUT: replaces the object; a stale metadata.resourceVersion fails with 409. */
  async replace<T extends KubeObject>(
    object: T,
    options: { subresource?: string; dryRun?: boolean; fieldManager?: string } = {},
  ): Promise<T> {
    const path = await this.path(refOf(object), options.subresource);
    return this.request<T>({
      method: "PUT",
      path,
      body: object,
      query: { dryRun: options.dryRun ? "All" : undefined, fieldManager: options.fieldManager },
    });
  }

  async patch<T extends KubeObject = Unstructured>(
    ref: ObjectRef,
    type: PatchType,
    patch: unknown,
    options: { subresource?: string; fieldManager?: string; force?: boolean; dryRun?: boolean } = {},
  ): Promise<T> {
    return this.request<T>({
      method: "PATCH",
      path: await this.path(ref, options.subresource),
      body: patch,
      contentType: patchContentTypes[type],
      query: {
        fieldManager: options.fieldManager,
        force: options.force,
        dryRun: options.dryRun ? "All" : undefined,
      },
    });
  }

  async delete(
    ref: ObjectRef,
    options: {
      propagationPolicy?: "Foreground" | "Background" | "Orphan";
      uid?: string;
      resourceVersion?: string;
    } = {},
  ): Promise<void> {
    const preconditions =
      options.uid || options.resourceVersion
        ? { uid: options.uid, resourceVersion: options.resourceVersion }
        : undefined;
    await this.request({
      method: "DELETE",
      path: await this.path(ref),
      body: {
        apiVersion: "v1",
        kind: "DeleteOptions",
        propagationPolicy: options.propagationPolicy,
        preconditions,
      },
    });
  }

  /**
   * Opens a watch and yields its events. Ends when the server closes the stream
   * (timeoutSeconds) or the signal aborts. An ERROR event is thrown as KubeApiError, so a
   * compacted resourceVersion surfaces as status 410 whether the server refuses the
   * request or reports it in the stream.
   */
  async *watch<T extends KubeObject = Unstructured>(
    apiVersion: string,
    kind: string,
    options: WatchOptions = {},
  ): AsyncGenerator<WatchEvent<T>> {
    const spec: RequestSpec = {
      method: "GET",
      path: await this.path({ apiVersion, kind, namespace: options.namespace }),
      signal: options.signal,
      timeoutMs: 0,
      query: {
        watch: 1,
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: options.allowWatchBookmarks ?? true,
        sendInitialEvents: options.sendInitialEvents,
        resourceVersionMatch: options.resourceVersionMatch,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        timeoutSeconds: options.timeoutSeconds,
      },
    };
    const response = await this.#open(spec);
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) throw apiError(spec, status, await readBody(response));
    try {
      for await (const line of jsonLines(response)) {
        const event = JSON.parse(line) as WatchEvent<T> | { type: "ERROR"; object: StatusObject };
        if (event.type === "ERROR") {
          const statusObject = event.object;
          throw new KubeApiError(
            `watch ${apiVersion} ${kind}: ${statusObject.message ?? "error"}`,
            statusObject.code ?? 500,
            statusObject.reason ?? "",
            statusObject.details,
          );
        }
        yield event;
      }
    } finally {
      response.destroy();
    }
  }
}

/**
 * Splits a response stream into non-empty lines. (node:readline's async iterator never
 * settles when its input is destroyed with an error, which an aborted watch does.)
 */
async function* jsonLines(response: IncomingMessage): AsyncGenerator<string> {
  response.setEncoding("utf8");
  let buffered = "";
  for await (const chunk of response) {
    buffered += chunk as string;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield line;
    }
  }
  if (buffered.trim()) yield buffered.trim();
}

interface StatusObject {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: unknown;
}

export function refOf(object: KubeObject): ObjectRef {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name ?? "",
    namespace: object.metadata.namespace,
  };
}

export function resourcePath(
  info: ResourceInfo,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const base = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
  let path = info.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}` : base;
  path += `/${info.resource}`;
  if (name) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}

function flattenHeaders(headers: RequestOptions["headers"]): Record<string, string> {
  const result: Record<string, string> = {};
  if (!headers || Array.isArray(headers)) return result;
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined)
      result[key.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return result;
}

async function readBody(response: IncomingMessage): Promise<string> {
  response.setEncoding("utf8");
  let text = "";
  for await (const chunk of response) text += chunk as string;
  return text;
}

function apiError(spec: RequestSpec, status: number, text: string): KubeApiError {
  let statusObject: StatusObject = {};
  try {
    statusObject = JSON.parse(text) as StatusObject;
  } catch {
    // Not a Status object (a proxy's or a load balancer's answer): keep the raw text.
  }
  const message = statusObject.message ?? (text.slice(0, 500) || `HTTP ${status}`);
  return new KubeApiError(
    `${spec.method} ${spec.path}: ${message}`,
    status,
    statusObject.reason ?? httpReason(status),
    statusObject.details,
  );
}

function httpReason(status: number): string {
  switch (status) {
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    default:
      return status >= 500 ? "InternalError" : "";
  }
}
