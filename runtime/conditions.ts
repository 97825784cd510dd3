// metav1.Condition bookkeeping shared by every controller.
import type { Condition } from "../api/types/meta.ts";
import { formatTime } from "./time.ts";

export type { Condition };

/**
 * metav1.Condition's schema limit on `message`: a longer one (say, quoting a huge field of a
 * hostile object) would make the API server refuse the whole status write.
 */
export const conditionMessageLimit = 32768;
const truncatedSuffix = " … (truncated)";

/** `message`, cut to conditionMessageLimit characters when longer. */
export function boundedMessage(message: string): string {
  return message.length <= conditionMessageLimit
    ? message
    : message.slice(0, conditionMessageLimit - truncatedSuffix.length) + truncatedSuffix;
}

/** A status whose top-level conditions' messages are all within conditionMessageLimit. */
export function withBoundedConditionMessages(status: unknown): unknown {
  if (status === null || typeof status !== "object" || Array.isArray(status)) return status;
  const conditions = (status as { conditions?: unknown }).conditions;
  const tooLong = (condition: unknown): condition is { message: string } =>
    typeof (condition as { message?: unknown } | null)?.message === "string" &&
    (condition as { message: string }).message.length > conditionMessageLimit;
  if (!Array.isArray(conditions) || !conditions.some(tooLong)) return status;
  return {
    ...status,
    conditions: conditions.map((condition: unknown) =>
      tooLong(condition) ? { ...condition, message: boundedMessage(condition.message) } : condition,
    ),
  };
}

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
