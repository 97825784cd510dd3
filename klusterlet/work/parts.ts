// The order of the parts of a split template: part i is applied only once every part before it
// (same whole, same template hash) reports Applied=True for its current generation, so that
// what the first parts carry (CRDs, namespaces) reaches the cluster before what needs it.
import {
  BosunWorkAnnotations,
  BosunWorkLabels,
  ConditionStatus,
  ManifestWorkConditions,
} from "../../api/constants.ts";
import type { ObjectMeta } from "../../api/types/meta.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import { findCondition } from "../../runtime/conditions.ts";

export interface PartIdentity {
  /** The name of part 0, shared by every part of the template. */
  whole: string;
  index: number;
  count: number;
  templateHash: string;
}

function wholeNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * Which part of which whole a work is; undefined for a work that is not a part (no part labels,
 * or labels that do not make sense: such a work is applied as an ordinary ManifestWork).
 */
export function partOf(
  metadata: Pick<ObjectMeta, "name" | "labels" | "annotations">,
): PartIdentity | undefined {
  const labels = metadata.labels ?? {};
  const index = wholeNumber(labels[BosunWorkLabels.partIndex]);
  const count = wholeNumber(labels[BosunWorkLabels.partCount]);
  const templateHash = labels[BosunWorkLabels.templateHash];
  if (index === undefined || count === undefined || !templateHash || index >= count) return undefined;
  const whole =
    metadata.annotations?.[BosunWorkAnnotations.partOf] ?? (index === 0 ? metadata.name : undefined);
  if (!whole) return undefined;
  return { whole, index, count, templateHash };
}

/** True when the work's Applied condition is True for its current generation. */
export function appliedForGeneration(work: Pick<ManifestWork, "metadata" | "status">): boolean {
  const applied = findCondition(work.status?.conditions, ManifestWorkConditions.applied);
  if (applied?.status !== ConditionStatus.True) return false;
  return (applied.observedGeneration ?? 0) === (work.metadata.generation ?? 0);
}

export type PartGate =
  | { ready: true }
  | {
      ready: false;
      /** The earlier part indexes that are missing or not Applied yet, ascending. */
      waitingFor: number[];
      message: string;
    };

/**
 * Whether a part may be applied, given the works of its namespace. Part 0 and works that are
 * not parts always may. A part that is already Applied for its generation stays ready, so that
 * a later hiccup of an earlier part does not stop it from correcting drift.
 */
export function partGate(
  work: Pick<ManifestWork, "metadata" | "status">,
  siblings: readonly Pick<ManifestWork, "metadata" | "status">[],
): PartGate {
  const part = partOf(work.metadata);
  if (!part || part.index === 0) return { ready: true };
  if (appliedForGeneration(work)) return { ready: true };
  const ready = new Set<number>();
  for (const sibling of siblings) {
    const other = partOf(sibling.metadata);
    if (!other || other.whole !== part.whole || other.templateHash !== part.templateHash) continue;
    if (other.index < part.index && !sibling.metadata.deletionTimestamp && appliedForGeneration(sibling)) {
      ready.add(other.index);
    }
  }
  const waitingFor: number[] = [];
  for (let index = 0; index < part.index; index++) if (!ready.has(index)) waitingFor.push(index);
  if (waitingFor.length === 0) return { ready: true };
  return {
    ready: false,
    waitingFor,
    message:
      `part ${part.index} of ${part.count} of ${part.whole} waits until ` +
      `part${waitingFor.length > 1 ? "s" : ""} ${waitingFor.join(", ")} ` +
      `${waitingFor.length > 1 ? "are" : "is"} applied`,
  };
}
