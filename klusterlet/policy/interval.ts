// spec.evaluationInterval as config-policy-controller reads it: before an evaluation, whether
// it is due (a spec change, a deletion, an unknown state, a recreate that timed out and a
// change of the selected namespaces always make it due; otherwise the interval of the current
// compliance state decides); after one, how the next is scheduled (watch events, a requeue
// after the interval, or never until the spec changes).
import { parseGoDuration as parseGoDurationWithError } from "../../api/duration.ts";
import {
  ComplianceStates,
  ConfigurationPolicyMessages,
  ConfigurationPolicyReasons,
} from "../../api/constants.ts";
import type { ConfigurationPolicyStatus, EvaluationInterval } from "../../api/types/policy.ts";
import { jittered } from "../../runtime/jitter.ts";
import { parseMicroTime } from "../../runtime/time.ts";

export type Interval =
  | { kind: "watch" }
  | { kind: "never" }
  | { kind: "every"; ms: number }
  /** Not a duration Go's time.ParseDuration accepts: evaluated as often as watch, every 10 s. */
  | { kind: "invalid" };

/** How soon a policy with an invalid interval, or a kind its cluster does not serve yet, is looked at again. */
export const retryIntervalMs = 10_000;

/** Go's time.ParseDuration, in milliseconds; undefined when Go would refuse the text. */
export function parseGoDuration(text: string): number | undefined {
  const parsed = parseGoDurationWithError(text);
  return parsed.ok ? parsed.value : undefined;
}

/** One of evaluationInterval's values; empty means watch. */
export function intervalOf(value: string | undefined): Interval {
  if (value === undefined || value === "" || value === "watch") return { kind: "watch" };
  if (value === "never") return { kind: "never" };
  const ms = parseGoDuration(value);
  return ms === undefined || ms < 0 ? { kind: "invalid" } : { kind: "every", ms };
}

/** The interval for a compliance state: not Compliant (unknown too) is guilty until proven innocent. */
export function intervalFor(
  interval: EvaluationInterval | undefined,
  compliant: string | undefined,
): Interval {
  return intervalOf(compliant === ComplianceStates.compliant ? interval?.compliant : interval?.noncompliant);
}

export interface DueInput {
  generation: number | undefined;
  deleting: boolean;
  interval: EvaluationInterval | undefined;
  status: ConfigurationPolicyStatus | undefined;
  /** The namespaces the policy's namespaceSelector selects changed since its last evaluation. */
  namespacesChanged: boolean;
  nowMs: number;
}

export type Due = { evaluate: true } | { evaluate: false; requeueAfterMs?: number };

function recreateTimedOut(status: ConfigurationPolicyStatus): boolean {
  return (status.compliancyDetails ?? []).some((detail) =>
    (detail.conditions ?? []).some(
      (condition) =>
        condition.reason === ConfigurationPolicyReasons.updateTemplateError &&
        (condition.message ?? "").includes(ConfigurationPolicyMessages.recreateTimedOut.split(",")[0]!),
    ),
  );
}

/** Whether the policy is to be evaluated now; when not, how long until it is. */
export function evaluationDue(input: DueInput): Due {
  const status = input.status ?? {};
  if (input.deleting || !status.lastEvaluated) return { evaluate: true };
  if ((status.lastEvaluatedGeneration ?? 0) !== (input.generation ?? 0)) return { evaluate: true };
  if (status.compliant === ComplianceStates.nonCompliant && recreateTimedOut(status))
    return { evaluate: true };
  if (input.namespacesChanged) return { evaluate: true };
  if (status.compliant !== ComplianceStates.compliant && status.compliant !== ComplianceStates.nonCompliant)
    return { evaluate: true };
  const interval = intervalFor(input.interval, status.compliant);
  switch (interval.kind) {
    case "never":
      return { evaluate: false };
    case "watch":
    case "invalid":
      return { evaluate: true };
    case "every": {
      const last = parseMicroTime(status.lastEvaluated);
      if (last === undefined) return { evaluate: true };
      const left = last + interval.ms - input.nowMs;
      return left > 0 ? { evaluate: false, requeueAfterMs: Math.ceil(left) } : { evaluate: true };
    }
  }
}

export interface Schedule {
  /** Re-evaluate when an object the policy read changes. */
  watch: boolean;
  requeueAfterMs?: number;
}

/**
 * How the next evaluation comes, given the state just reached. `retrySoon` (a kind the cluster
 * does not serve yet) asks for another look after 10 s even in watch mode, so that a CRD
 * installed later is noticed.
 */
export function nextEvaluation(
  interval: EvaluationInterval | undefined,
  compliant: string | undefined,
  options: { retrySoon?: boolean; random?: () => number } = {},
): Schedule {
  const current = intervalFor(interval, compliant);
  const retry = options.retrySoon && compliant !== ComplianceStates.compliant;
  switch (current.kind) {
    case "watch":
      return retry ? { watch: true, requeueAfterMs: retryIntervalMs } : { watch: true };
    case "never":
      return { watch: false };
    case "invalid":
      return { watch: false, requeueAfterMs: retryIntervalMs };
    case "every":
      // Jitter spreads out the policies that share an interval; it only ever delays.
      return { watch: false, requeueAfterMs: Math.round(jittered(current.ms, 0.1, options.random)) };
  }
}
