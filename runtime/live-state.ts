// Whether an object on the server already holds what a client would apply: for a dry run that
// says what a write would change, and for a periodic re-apply that writes only what drifted.
import type { Unstructured } from "./kube/types.ts";

export type ObjectAction = "create" | "update" | "unchanged";

// Fields the API server sets: an apply configuration never carries them.
const serverMetadata = new Set([
  "managedFields",
  "resourceVersion",
  "uid",
  "creationTimestamp",
  "generation",
  "selfLink",
]);

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && Object.keys(value).length === 0;
}

/**
 * Whether `live` already holds every field `desired` declares, with the same value. Fields
 * only `live` has (server defaults, other managers' fields, status) do not count; lists must
 * match element by element; an empty list or map declared matches an absent one.
 */
export function holdsFields(desired: unknown, live: unknown): boolean {
  if (isEmpty(desired) && isEmpty(live)) return true;
  if (Array.isArray(desired)) {
    return (
      Array.isArray(live) &&
      live.length === desired.length &&
      desired.every((element, index) => holdsFields(element, live[index]))
    );
  }
  if (desired !== null && typeof desired === "object") {
    if (live === null || typeof live !== "object" || Array.isArray(live)) return false;
    const record = live as Record<string, unknown>;
    return Object.entries(desired).every(([key, value]) => holdsFields(value, record[key]));
  }
  return desired === live;
}

/** What applying `desired` would do, given the object the server has now (absent: undefined). */
export function objectAction(desired: Unstructured, live: Unstructured | undefined): ObjectAction {
  if (!live) return "create";
  const metadata = Object.fromEntries(
    Object.entries(desired.metadata ?? {}).filter(([key]) => !serverMetadata.has(key)),
  );
  return holdsFields({ ...desired, metadata }, live) ? "unchanged" : "update";
}
