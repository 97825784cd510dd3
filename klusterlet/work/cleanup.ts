// Carries out deletion.ts's plan for applied resources on the managed cluster. Applied
// resources are recorded by group, version and plural resource (not kind), so they are
// addressed by REST path directly.
import type { AppliedManifestResourceMeta } from "../../api/types/work.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import { resourcePath } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { planDeletion, planOrphaning, type DeletionStep } from "./deletion.ts";

/** A failed step on one applied resource; the resource stays pending. */
export class AppliedResourceError extends Error {
  override name = "AppliedResourceError";
}

export function appliedResourcePath(resource: AppliedManifestResourceMeta): string {
  return resourcePath(
    {
      group: resource.group ?? "",
      version: resource.version,
      kind: "",
      resource: resource.resource,
      namespaced: Boolean(resource.namespace),
      verbs: [],
      subresources: [],
    },
    resource.namespace || undefined,
    resource.name,
  );
}

export function describeAppliedResource(resource: AppliedManifestResourceMeta): string {
  const group = resource.group ? `.${resource.group}` : "";
  const where = resource.namespace ? `${resource.namespace}/` : "";
  return `${resource.resource}${group} ${where}${resource.name}`;
}

export interface CleanupResult {
  /** Still there (being deleted, or a step failed): keep them recorded and check again later. */
  pending: AppliedManifestResourceMeta[];
  /** What was done to each resource, for logs and tests. */
  steps: { resource: AppliedManifestResourceMeta; step: DeletionStep["action"] }[];
  errors: AppliedResourceError[];
}

/**
 * Deletes, or lets go of, every resource in `resources` that the AppliedManifestWork with uid
 * `appliedUid` applied: see planDeletion for the rules. With `orphan`, nothing is deleted: each
 * resource only loses that owner reference (planOrphaning).
 */
export async function deleteAppliedResources(
  client: KubeApi,
  resources: readonly AppliedManifestResourceMeta[],
  appliedUid: string,
  options: { orphan?: boolean } = {},
): Promise<CleanupResult> {
  const result: CleanupResult = { pending: [], steps: [], errors: [] };
  for (const resource of resources) {
    const path = appliedResourcePath(resource);
    try {
      const live = await getOrUndefined(client, path);
      const seen = live && {
        uid: live.metadata.uid,
        resourceVersion: live.metadata.resourceVersion,
        ownerReferences: live.metadata.ownerReferences,
        deletionTimestamp: live.metadata.deletionTimestamp,
      };
      const step = options.orphan
        ? planOrphaning(seen, appliedUid)
        : planDeletion(resource, seen, appliedUid);
      result.steps.push({ resource, step: step.action });
      switch (step.action) {
        case "forget":
        case "skip":
          break;
        case "remove-owner":
          await client.request({
            method: "PATCH",
            path,
            body: step.patch,
            contentType: "application/merge-patch+json",
          });
          break;
        case "pending":
          result.pending.push(resource);
          break;
        case "delete":
          if (await deleteWithPrecondition(client, path, step.options)) result.pending.push(resource);
          break;
      }
    } catch (error) {
      result.pending.push(resource);
      result.errors.push(
        new AppliedResourceError(
          `cleaning up ${describeAppliedResource(resource)}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        ),
      );
    }
  }
  return result;
}

async function getOrUndefined(client: KubeApi, path: string): Promise<Unstructured | undefined> {
  try {
    return await client.request<Unstructured>({ method: "GET", path });
  } catch (error) {
    if (error instanceof KubeApiError && error.notFound) return undefined;
    throw error;
  }
}

/** Deletes with a uid precondition; false when the object is already gone or is another one. */
async function deleteWithPrecondition(
  client: KubeApi,
  path: string,
  options: { propagationPolicy: string; uid: string },
): Promise<boolean> {
  try {
    await client.request({
      method: "DELETE",
      path,
      body: {
        apiVersion: "v1",
        kind: "DeleteOptions",
        propagationPolicy: options.propagationPolicy,
        preconditions: options.uid ? { uid: options.uid } : undefined,
      },
    });
    return true;
  } catch (error) {
    if (error instanceof KubeApiError && (error.notFound || error.status === 409)) return false;
    throw error;
  }
}
