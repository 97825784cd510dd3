// When the policy agent looks at a ConfigurationPolicy again: which updates of the policy call
// for an evaluation (not the agent's own status writes), whether its pruneObjectBehavior needs
// the deletion finalizer, and whether the cache still holds a version older than the agent's
// last write.
import { PolicyAnnotations } from "../../api/constants.ts";
import type { ConfigurationPolicy } from "../../api/types/policy.ts";

const pruneBehaviors = new Set(["DeleteIfCreated", "DeleteAll"]);

export function wantsFinalizer(policy: ConfigurationPolicy): boolean {
  return pruneBehaviors.has(policy.spec?.pruneObjectBehavior ?? "None");
}

/** Whether a policy update is one to evaluate again for: not our own status writes. */
export function needsEvaluation(previous: ConfigurationPolicy, current: ConfigurationPolicy): boolean {
  const annotation = (policy: ConfigurationPolicy) =>
    policy.metadata.annotations?.[PolicyAnnotations.disableTemplates];
  return (
    previous.metadata.generation !== current.metadata.generation ||
    (!previous.metadata.deletionTimestamp && Boolean(current.metadata.deletionTimestamp)) ||
    annotation(previous) !== annotation(current) ||
    // A reset of the compliance (by the framework, or by hand) asks for a fresh evaluation.
    (Boolean(previous.status?.compliant) && !current.status?.compliant)
  );
}

/** resourceVersion `a` is older than `b` (both etcd revisions of one object). */
export function olderThan(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) < BigInt(b);
}
