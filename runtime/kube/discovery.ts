// Maps apiVersion/kind to the REST resource and its scope, from the API server's discovery
// documents. A kind that is not known yet (a CRD installed after start) triggers a fresh
// read of its group version before it is reported as unknown.
import { KubeApiError } from "../errors.ts";

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  /** The plural resource name used in REST paths. */
  resource: string;
  namespaced: boolean;
  verbs: string[];
  /** Subresources the server offers for this resource, e.g. status, scale. */
  subresources: string[];
}

interface APIResourceList {
  groupVersion: string;
  resources: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
}

/** A kind the API server does not serve (its CRD is missing). */
export class UnknownKindError extends Error {
  override name = "UnknownKindError";
  readonly apiVersion: string;
  readonly kind: string;
  constructor(apiVersion: string, kind: string, options?: ErrorOptions) {
    super(`no resource of kind ${kind} is served in API version ${apiVersion}`, options);
    this.apiVersion = apiVersion;
    this.kind = kind;
  }
}

export class Discovery {
  readonly #fetch: (path: string) => Promise<unknown>;
  readonly #byGroupVersion = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(fetch: (path: string) => Promise<unknown>) {
    this.#fetch = fetch;
  }

  async resolve(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const cached = await this.#groupVersion(apiVersion, false);
    const known = cached.get(kind);
    if (known) return known;
    const fresh = await this.#groupVersion(apiVersion, true);
    const found = fresh.get(kind);
    if (!found) throw new UnknownKindError(apiVersion, kind);
    return found;
  }

  /** Forgets what was read, so the next lookup asks the server again. */
  invalidate(apiVersion?: string): void {
    if (apiVersion) this.#byGroupVersion.delete(apiVersion);
    else this.#byGroupVersion.clear();
  }

  #groupVersion(apiVersion: string, refresh: boolean): Promise<Map<string, ResourceInfo>> {
    const existing = this.#byGroupVersion.get(apiVersion);
    if (existing && !refresh) return existing;
    const loading = this.#load(apiVersion);
    this.#byGroupVersion.set(apiVersion, loading);
    // A failed read is not cached: the next lookup tries again.
    loading.catch(() => {
      if (this.#byGroupVersion.get(apiVersion) === loading) this.#byGroupVersion.delete(apiVersion);
    });
    return loading;
  }

  async #load(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    const slash = apiVersion.indexOf("/");
    const group = slash < 0 ? "" : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
    let list: APIResourceList;
    try {
      list = (await this.#fetch(path)) as APIResourceList;
    } catch (error) {
      if (error instanceof KubeApiError && error.notFound) return new Map();
      throw error;
    }
    const subresources = new Map<string, string[]>();
    for (const resource of list.resources) {
      const slashAt = resource.name.indexOf("/");
      if (slashAt < 0) continue;
      const parent = resource.name.slice(0, slashAt);
      subresources.set(parent, [...(subresources.get(parent) ?? []), resource.name.slice(slashAt + 1)]);
    }
    const byKind = new Map<string, ResourceInfo>();
    for (const resource of list.resources) {
      if (resource.name.includes("/")) continue;
      byKind.set(resource.kind, {
        group,
        version,
        kind: resource.kind,
        resource: resource.name,
        namespaced: resource.namespaced,
        verbs: resource.verbs ?? [],
        subresources: subresources.get(resource.name) ?? [],
      });
    }
    return byKind;
  }
}
