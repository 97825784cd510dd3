// The shapes every Kubernetes object shares, as the dynamic client sees them.

import type { KubeObject, ObjectMeta } from "../../api/types/meta.ts";

export type { KubeObject, ManagedFieldsEntry, ObjectMeta, OwnerReference } from "../../api/types/meta.ts";

/** An object of any kind, its other top-level fields (spec, status, data, ...) untyped. */
export interface Unstructured extends KubeObject {
  [field: string]: unknown;
}

export interface KubeList<T extends KubeObject = Unstructured> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: "Exact" | "NotOlderThan";
  limit?: number;
  continue?: string;
  signal?: AbortSignal;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  /**
   * A streamed list (Kubernetes' WatchList): the watch first sends every current object as
   * ADDED, then a bookmark annotated `initialEventsEndAnnotation`. Needs `resourceVersionMatch`
   * NotOlderThan and bookmarks.
   */
  sendInitialEvents?: boolean;
  resourceVersionMatch?: "NotOlderThan";
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

/** The annotation on the bookmark that ends a streamed list's initial events. */
export const initialEventsEndAnnotation = "k8s.io/initial-events-end";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchEvent<T extends KubeObject = Unstructured> {
  type: WatchEventType;
  object: T;
}

/** The cache key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(object: { metadata: ObjectMeta }): string {
  const { namespace, name } = object.metadata;
  return namespace ? `${namespace}/${name}` : (name ?? "");
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf("/");
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
