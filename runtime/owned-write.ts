// Writing the fields a controller owns (labels, annotations, spec) onto an object another
// writer keeps changing (an agent writes a ManifestWork's status all the time).
//
// For a large object, a PUT costs kube-apiserver about a third less CPU than a merge patch of the
// same change: with a patch it encodes the stored object, merges and decodes the result, with a
// PUT it decodes one body (bench/write-cost.ts, recorded in bench/RESULTS.md). A PUT needs the
// cached resourceVersion to be current; when another writer got there first, the merge patch of
// only the owned fields is sent instead, which needs no precondition and overwrites nothing else.
import { apply } from "json-merge-patch";
import { type KubeApi, refOf } from "./kube/client.ts";
import { KubeApiError } from "./errors.ts";
import type { KubeObject } from "./kube/types.ts";

/**
 * Writes `patch` (an RFC 7386 merge patch of owned fields, never status) onto `existing` as
 * read from the cache: a PUT of the patched copy at the cached resourceVersion, or on 409
 * Conflict the patch itself. Returns the object as the API server now holds it.
 */
export async function writeOwnedFields<T extends KubeObject>(
  client: KubeApi,
  existing: T,
  patch: { metadata?: Record<string, unknown>; [field: string]: unknown },
  options: { fieldManager?: string } = {},
): Promise<T> {
  if (existing.metadata.resourceVersion) {
    // apply() changes its target in place; the cached object must stay as it is.
    const updated = apply(JSON.parse(JSON.stringify(existing)), patch) as T;
    try {
      return await client.replace<T>(updated, { fieldManager: options.fieldManager });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.conflict)) throw error;
    }
  }
  return client.patch<T>(refOf(existing), "merge", patch, { fieldManager: options.fieldManager });
}
