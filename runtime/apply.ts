// Server-side apply: the API server merges the fields a manager declares and records it as
// their owner; fields the manager stops declaring are removed unless someone else owns them.
import type { KubeApi } from "./kube/client.ts";
import { refOf } from "./kube/client.ts";
import type { KubeObject } from "./kube/types.ts";

export interface ApplyOptions {
  fieldManager: string;
  /** Take ownership of fields another manager owns instead of failing with 409. */
  force?: boolean;
  dryRun?: boolean;
  subresource?: string;
}

/** The object as an apply configuration: the server-populated metadata stripped. */
export function applyConfiguration<T extends KubeObject>(object: T): T {
  const {
    managedFields: _m,
    resourceVersion: _r,
    uid: _u,
    creationTimestamp: _c,
    generation: _g,
    ...metadata
  } = object.metadata;
  return { ...object, metadata };
}

export async function applyServerSide<T extends KubeObject>(
  client: KubeApi,
  object: T,
  options: ApplyOptions,
): Promise<T> {
  return client.patch<T>(refOf(object), "apply", applyConfiguration(object), {
    fieldManager: options.fieldManager,
    force: options.force,
    dryRun: options.dryRun,
    subresource: options.subresource,
  });
}
