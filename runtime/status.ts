// Status writes: the smallest merge patch that turns the cached status into the desired
// one, sent to the status subresource with the cached resourceVersion. A writer working
// from a stale cache gets 409 Conflict (surfaced as KubeApiError.conflict) and the
// controller requeues with a fresh read, instead of overwriting a newer status.
import { generate } from "json-merge-patch";
import { withBoundedConditionMessages } from "./conditions.ts";
import type { KubeApi } from "./kube/client.ts";
import { refOf } from "./kube/client.ts";
import type { KubeObject } from "./kube/types.ts";

/** The merge patch from `current` to `desired`, or undefined when they are equal. */
export function statusPatch(current: unknown, desired: unknown): unknown {
  return generate(current ?? {}, desired ?? {});
}

/**
 * Writes `desiredStatus` onto `current` (as read from the cache) if it differs.
 * Returns the updated object, or undefined when there was nothing to write.
 */
export async function patchStatus<T extends KubeObject>(
  client: KubeApi,
  current: T,
  desiredStatus: unknown,
  options: { fieldManager?: string } = {},
): Promise<T | undefined> {
  const diff = statusPatch(
    (current as { status?: unknown }).status,
    withBoundedConditionMessages(desiredStatus),
  );
  if (diff === undefined) return undefined;
  const resourceVersion = current.metadata.resourceVersion;
  if (!resourceVersion)
    throw new Error(
      `cannot patch the status of ${current.kind} ${current.metadata.name}: no resourceVersion`,
    );
  return client.patch<T>(
    refOf(current),
    "merge",
    { metadata: { resourceVersion }, status: diff },
    { subresource: "status", fieldManager: options.fieldManager },
  );
}
