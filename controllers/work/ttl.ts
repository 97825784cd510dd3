// When a finished ManifestWork is due for deletion, as OCM's hub garbage collector decides it:
// a work with `deleteOption.ttlSecondsAfterFinished` whose Complete condition is True goes that
// many seconds after Complete turned True (0: at once). Works written for a
// ManifestWorkReplicaSet are left to their replica set.
import { ConditionStatus, Labels, ManifestWorkConditions } from "../../api/constants.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { parseMicroTime } from "../../runtime/time.ts";

/** Milliseconds since the epoch at which `work` is to be deleted; undefined when never (yet). */
export function deletionDueAt(work: ManifestWork): number | undefined {
  const ttlSeconds = work.spec?.deleteOption?.ttlSecondsAfterFinished;
  if (ttlSeconds === undefined || ttlSeconds === null || ttlSeconds < 0) return undefined;
  if (work.metadata.deletionTimestamp) return undefined;
  if (work.metadata.labels?.[Labels.manifestWorkReplicaSet] !== undefined) return undefined;
  const complete = findCondition(work.status?.conditions, ManifestWorkConditions.complete);
  if (complete?.status !== ConditionStatus.True) return undefined;
  const finishedAt = parseMicroTime(complete.lastTransitionTime ?? "");
  if (finishedAt === undefined) return undefined;
  return finishedAt + ttlSeconds * 1000;
}
