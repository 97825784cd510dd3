// metav1.Condition bookkeeping shared by every controller.
import type { Condition } from "../api/types/meta.ts";
import { formatTime } from "./time.ts";

export type { Condition };

/** A condition as a controller computes it; setCondition stamps lastTransitionTime. */
export type ConditionUpdate = Omit<Condition, "lastTransitionTime">;

/**
 * Returns the conditions with `next` set: lastTransitionTime moves only when the status
 * changes, so rewriting an unchanged condition produces an identical list (and no write).
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionUpdate,
  nowMs: number,
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((condition) => condition.type === next.type);
  const existing = index >= 0 ? list[index] : undefined;
  const lastTransitionTime =
    existing && existing.status === next.status && existing.lastTransitionTime
      ? existing.lastTransitionTime
      : formatTime(nowMs);
  const updated: Condition = { ...next, lastTransitionTime };
  if (index >= 0) list[index] = updated;
  else list.push(updated);
  return list;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((condition) => condition.type !== type);
}
