// The ManifestWork status after one pass of the agent, from the per-manifest results: Applied
// from each apply, then Available, status feedback and condition rules from the live objects,
// then the work's own conditions aggregated from its manifests.
import { BosunWorkReasons, ConditionStatus, ManifestWorkConditions } from "../../api/constants.ts";
import type { ManifestCondition, ManifestWork, ManifestWorkStatus } from "../../api/types/work.ts";
import { setCondition } from "../../runtime/conditions.ts";
import type { ManifestResult } from "./applier.ts";
import type { ConditionRuleCache } from "./condition-rules.ts";
import type { FeedbackOptions } from "./feedback.ts";
import { appliedCondition, mergeManifestConditions, updateManifestStatus } from "./manifest-conditions.ts";
import { workConditions, workDeletingCondition } from "./work-conditions.ts";

export interface NextStatusInput {
  work: Pick<ManifestWork, "metadata" | "status">;
  /** In spec order. */
  results: readonly ManifestResult[];
  nowMs: number;
  cache: ConditionRuleCache;
  feedback?: FeedbackOptions;
}

export function nextWorkStatus(input: NextStatusInput): ManifestWorkStatus {
  const { work, results, nowMs } = input;
  const generation = work.metadata.generation ?? 0;
  const merged = mergeManifestConditions(
    work.status?.resourceStatus?.manifests,
    results.map((result) => ({
      resourceMeta: result.resourceMeta,
      conditions: [appliedCondition(result.outcome, generation)],
    })),
    nowMs,
  );
  const manifests: ManifestCondition[] = merged.map((manifest, index) => {
    const result = results[index]!;
    return updateManifestStatus({
      manifest,
      fetch: result.fetch,
      option: result.config,
      generation,
      nowMs,
      cache: input.cache,
      feedback: input.feedback,
    });
  });
  const conditions = workConditions({ previous: work.status?.conditions, manifests, generation, nowMs });
  return { conditions, resourceStatus: { manifests } };
}

/**
 * The status of a part that waits for earlier parts: every manifest Applied=False with the
 * reason why, and the work's Applied=False with bosun's EarlierPartsNotApplied reason.
 */
export function waitingPartStatus(
  work: Pick<ManifestWork, "metadata" | "status">,
  results: readonly Pick<ManifestResult, "resourceMeta">[],
  message: string,
  nowMs: number,
): ManifestWorkStatus {
  const generation = work.metadata.generation ?? 0;
  const manifests = mergeManifestConditions(
    work.status?.resourceStatus?.manifests,
    results.map((result) => ({
      resourceMeta: result.resourceMeta,
      conditions: [appliedCondition({ ok: false, error: message }, generation)],
    })),
    nowMs,
  );
  const conditions = setCondition(
    work.status?.conditions,
    {
      type: ManifestWorkConditions.applied,
      status: ConditionStatus.False,
      reason: BosunWorkReasons.earlierPartsNotApplied,
      message,
      observedGeneration: generation,
    },
    nowMs,
  );
  return { conditions, resourceStatus: { manifests } };
}

/** The status with Deleting=True set. */
export function deletingStatus(
  work: Pick<ManifestWork, "metadata" | "status">,
  nowMs: number,
): ManifestWorkStatus {
  return {
    ...work.status,
    conditions: setCondition(
      work.status?.conditions,
      workDeletingCondition(work.metadata.generation ?? 0),
      nowMs,
    ),
  };
}
