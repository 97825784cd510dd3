// A ManifestWork's own conditions, aggregated from its manifests' conditions as OCM's work
// agent does:
//   - Applied: True AppliedManifestWorkComplete when no manifest's Applied is False, False
//     AppliedManifestWorkFailed otherwise; absent while no manifest has an Applied condition.
//   - Available: False ResourcesNotAvailable when any manifest is unavailable, Unknown
//     ResourcesStatusUnknown when any is unknown or none is available, else True
//     ResourcesAvailable. Set only once the work has an Applied condition, even without manifests.
//   - one condition per type that condition rules set on manifests (Progressing, Degraded,
//     Complete or any custom type), reason ConditionRulesAggregated: Progressing is True when any
//     manifest's is True, else Unknown when any is Unknown, else False; every other type is False
//     when any is False, else Unknown when any is Unknown or none is True, else True.
//   - Deleting: True WorkDeleting while the agent deletes the work.
// Every aggregate carries the work's generation as observedGeneration.
import {
  ConditionStatus,
  ManifestWorkConditions,
  ManifestWorkMessages,
  ManifestWorkReasons,
  type ConditionStatusValue,
} from "../../api/constants.ts";
import type { ManifestCondition } from "../../api/types/work.ts";
import {
  findCondition,
  setCondition,
  type Condition,
  type ConditionUpdate,
} from "../../runtime/conditions.ts";
import { isConditionRuleCondition, pruneRuleConditions } from "./condition-rules.ts";

/** The work's Applied condition, or undefined when no manifest has an Applied condition. */
export function workAppliedCondition(
  manifests: readonly Pick<ManifestCondition, "conditions">[],
  generation: number,
): ConditionUpdate | undefined {
  const applied = manifests.flatMap((m) =>
    m.conditions.filter((c) => c.type === ManifestWorkConditions.applied),
  );
  if (applied.length === 0) return undefined;
  const failed = applied.some((c) => c.status === ConditionStatus.False);
  return {
    type: ManifestWorkConditions.applied,
    status: failed ? ConditionStatus.False : ConditionStatus.True,
    reason: failed
      ? ManifestWorkReasons.appliedManifestWorkFailed
      : ManifestWorkReasons.appliedManifestWorkComplete,
    message: failed
      ? ManifestWorkMessages.appliedManifestWorkFailed
      : ManifestWorkMessages.appliedManifestWorkComplete,
    observedGeneration: generation,
  };
}

/** How many manifests have a condition of one type in each status, and its last message. */
export interface ConditionTally {
  true: number;
  false: number;
  unknown: number;
  message: string;
}

function tally(
  manifests: readonly Pick<ManifestCondition, "conditions">[],
  include: (condition: Condition) => boolean,
): Map<string, ConditionTally> {
  const tallies = new Map<string, ConditionTally>();
  for (const manifest of manifests) {
    for (const condition of manifest.conditions) {
      if (!include(condition)) continue;
      let entry = tallies.get(condition.type);
      if (!entry) {
        entry = { true: 0, false: 0, unknown: 0, message: "" };
        tallies.set(condition.type, entry);
      }
      if (condition.status === ConditionStatus.True) entry.true++;
      else if (condition.status === ConditionStatus.False) entry.false++;
      else if (condition.status === ConditionStatus.Unknown) entry.unknown++;
      if (condition.message) entry.message = condition.message;
    }
  }
  return tallies;
}

/** The work's Available condition from its manifests' Available conditions. */
export function workAvailableCondition(
  manifests: readonly Pick<ManifestCondition, "conditions">[],
  generation: number,
): ConditionUpdate {
  const counts = tally(manifests, (c) => c.type === ManifestWorkConditions.available).get(
    ManifestWorkConditions.available,
  ) ?? { true: 0, false: 0, unknown: 0, message: "" };
  const total = manifests.length;
  const base = { type: ManifestWorkConditions.available, observedGeneration: generation };
  if (counts.false > 0) {
    return {
      ...base,
      status: ConditionStatus.False,
      reason: ManifestWorkReasons.resourcesNotAvailable,
      message: `${counts.false} of ${total} resources are not available`,
    };
  }
  if (counts.unknown > 0) {
    return {
      ...base,
      status: ConditionStatus.Unknown,
      reason: ManifestWorkReasons.resourcesStatusUnknown,
      message: `${counts.unknown} of ${total} resources have unknown status`,
    };
  }
  if (counts.true === 0) {
    return {
      ...base,
      status: ConditionStatus.Unknown,
      reason: ManifestWorkReasons.resourcesStatusUnknown,
      message: ManifestWorkMessages.noAvailableResource,
    };
  }
  return {
    ...base,
    status: ConditionStatus.True,
    reason: ManifestWorkReasons.resourcesAvailable,
    message: ManifestWorkMessages.resourcesAvailable,
  };
}

/** The aggregate status of one rule-produced condition type. */
export function aggregateRuleStatus(type: string, counts: ConditionTally): ConditionStatusValue {
  if (type === ManifestWorkConditions.progressing) {
    if (counts.true > 0) return ConditionStatus.True;
    if (counts.unknown > 0) return ConditionStatus.Unknown;
    return ConditionStatus.False;
  }
  if (counts.false > 0) return ConditionStatus.False;
  if (counts.unknown > 0 || counts.true === 0) return ConditionStatus.Unknown;
  return ConditionStatus.True;
}

/**
 * The work conditions aggregated from manifests: Available and one per rule-produced type,
 * sorted by type. A rule type seen on one manifest only keeps that manifest's message.
 */
export function aggregateManifestConditions(
  manifests: readonly Pick<ManifestCondition, "conditions">[],
  generation: number,
): ConditionUpdate[] {
  const aggregated: ConditionUpdate[] = [workAvailableCondition(manifests, generation)];
  const tallies = tally(
    manifests,
    (c) => c.type !== ManifestWorkConditions.available && isConditionRuleCondition(c),
  );
  for (const [type, counts] of tallies) {
    const total = counts.true + counts.false + counts.unknown;
    aggregated.push({
      type,
      status: aggregateRuleStatus(type, counts),
      reason: ManifestWorkReasons.conditionRulesAggregated,
      message:
        total === 1 && counts.message ? counts.message : `Aggregated from ${total} manifest conditions`,
      observedGeneration: generation,
    });
  }
  return aggregated.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** The Deleting condition the agent sets while it deletes the work's resources. */
export function workDeletingCondition(generation: number): ConditionUpdate {
  return {
    type: ManifestWorkConditions.deleting,
    status: ConditionStatus.True,
    reason: ManifestWorkReasons.workDeleting,
    message: ManifestWorkMessages.workDeleting,
    observedGeneration: generation,
  };
}

export interface WorkConditionsInput {
  /** The work's current conditions. */
  previous: readonly Condition[] | undefined;
  /** The manifests' entries as they will be written. */
  manifests: readonly Pick<ManifestCondition, "conditions">[];
  generation: number;
  nowMs: number;
  /** The work is being deleted by the agent. */
  deleting?: boolean;
}

/**
 * The work's conditions after a pass: Applied, then (once Applied exists) the aggregates, with
 * aggregates of rule types from earlier generations dropped, then Deleting when deleting.
 * Other conditions are kept; lastTransitionTime moves only when a status changes.
 */
export function workConditions(input: WorkConditionsInput): Condition[] {
  const { manifests, generation, nowMs } = input;
  let conditions = [...(input.previous ?? [])];
  const applied = workAppliedCondition(manifests, generation);
  if (applied) conditions = setCondition(conditions, applied, nowMs);
  if (findCondition(conditions, ManifestWorkConditions.applied)) {
    for (const condition of aggregateManifestConditions(manifests, generation)) {
      conditions = setCondition(conditions, condition, nowMs);
    }
    conditions = pruneRuleConditions(conditions, generation);
  }
  if (input.deleting) conditions = setCondition(conditions, workDeletingCondition(generation), nowMs);
  return conditions;
}
