// Progressive rollout of a root Policy by the decision groups of its placement, bosun's addition
// to OCM governance. A root annotated `policy.bosun.dev/rollout: progressive` goes to decision
// group 0 first; the next group is released once every cluster of the released groups succeeded
// with the current content (enforce: Compliant; inform: any compliance reported), and the
// rollout halts when the latest released group has not succeeded within the deadline
// (`policy.bosun.dev/rollout-deadline`, a Go duration, default 10m). A change of the policy's
// content (a new revision) rolls out the same way from group 0; clusters of groups not yet
// released keep their replica as it is. What cannot be recomputed from the objects (the
// revision being rolled out, when each group was released, whether it halted) is kept as JSON
// in the `policy.bosun.dev/rollout-status` annotation of the root.
//
// Halted stays halted for the revision: a user restarts the rollout by changing the policy (a
// new revision) or by removing the status annotation (the same revision starts again from
// group 0). An invalid annotation halts the rollout too, until it is fixed; the latest group's
// deadline then counts from the fix.
import { createHash } from "node:crypto";
import { BosunPolicyRollout, BosunPolicyRolloutMessages, ComplianceStates } from "../../api/constants.ts";
import type { ComplianceState, PolicySpec } from "../../api/types/policy.ts";
import { parseGoDuration } from "../../api/duration.ts";
import type { DecisionGroup } from "./keys.ts";

const { phases, haltReasons, events } = BosunPolicyRollout;
const messages = BosunPolicyRolloutMessages;

// ---------------------------------------------------------------------------------------------
// Settings

export type RolloutSettings =
  | { mode: "off" }
  | { mode: "progressive"; deadlineMs: number; deadline: string }
  | { mode: "invalid"; message: string };

/** The rollout the root's annotations ask for. */
export function rolloutSettings(annotations: Readonly<Record<string, string>> | undefined): RolloutSettings {
  const mode = annotations?.[BosunPolicyRollout.annotation];
  if (mode === undefined) return { mode: "off" };
  if (mode !== BosunPolicyRollout.progressive)
    return { mode: "invalid", message: messages.invalidMode(mode) };
  const deadline = annotations?.[BosunPolicyRollout.deadlineAnnotation] ?? BosunPolicyRollout.defaultDeadline;
  const parsed = parseGoDuration(deadline);
  if (!parsed.ok) return { mode: "invalid", message: messages.invalidDeadline(deadline, parsed.error) };
  if (parsed.value <= 0)
    return { mode: "invalid", message: messages.invalidDeadline(deadline, messages.nonPositiveDeadline) };
  return { mode: "progressive", deadlineMs: parsed.value, deadline };
}

// ---------------------------------------------------------------------------------------------
// State

export type RolloutPhase = (typeof phases)[keyof typeof phases];
export type RolloutHaltReason = (typeof haltReasons)[keyof typeof haltReasons];

export interface RolloutState {
  /** The content revision being rolled out (rolloutRevision of the root's spec). */
  revision: string;
  phase: RolloutPhase;
  /** Why it halted; only when Halted. */
  reason?: RolloutHaltReason;
  /** How many decision groups, in index order, are released. */
  releasedGroups: number;
  /** When each released group was released, RFC 3339 with milliseconds. */
  releasedAt: string[];
  message: string;
}

const phaseValues: readonly string[] = Object.values(phases);
const reasonValues: readonly string[] = Object.values(haltReasons);

/** The state an annotation holds; undefined when it is absent or not a state bosun wrote. */
export function parseRolloutState(text: string | undefined): RolloutState | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const { revision, phase, reason, releasedGroups, releasedAt, message } = value as Record<string, unknown>;
  if (typeof revision !== "string" || typeof phase !== "string" || !phaseValues.includes(phase))
    return undefined;
  if (reason !== undefined && (typeof reason !== "string" || !reasonValues.includes(reason)))
    return undefined;
  if (typeof releasedGroups !== "number" || !Number.isInteger(releasedGroups) || releasedGroups < 0)
    return undefined;
  if (!Array.isArray(releasedAt) || releasedAt.length !== releasedGroups) return undefined;
  if (!releasedAt.every((at) => typeof at === "string" && !Number.isNaN(Date.parse(at)))) return undefined;
  return {
    revision,
    phase: phase as RolloutPhase,
    ...(reason !== undefined ? { reason: reason as RolloutHaltReason } : {}),
    releasedGroups,
    releasedAt: releasedAt as string[],
    message: typeof message === "string" ? message : "",
  };
}

/** The annotation text of a state, its fields in a fixed order so that equal states read equal. */
export function formatRolloutState(state: RolloutState): string {
  return JSON.stringify({
    revision: state.revision,
    phase: state.phase,
    ...(state.reason !== undefined ? { reason: state.reason } : {}),
    releasedGroups: state.releasedGroups,
    releasedAt: state.releasedAt,
    message: state.message,
  });
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * The revision of a root's content: a hash of its spec without `disabled` (templates,
 * remediationAction, dependencies, …), the same whatever the key order.
 */
export function rolloutRevision(spec: PolicySpec | undefined): string {
  const { disabled: _ignored, ...content } = spec ?? ({} as PolicySpec);
  return createHash("sha256").update(canonicalJson(content)).digest("hex").slice(0, 16);
}

// ---------------------------------------------------------------------------------------------
// Groups and clusters

export interface RolloutGroup {
  /** The decision-group-index (Infinity: decisions without one, released last). */
  index: number;
  name: string;
  /** Sorted. */
  clusters: string[];
}

/**
 * The placed clusters by decision group, in index order; a cluster without a known group goes
 * with the decisions that have no index, after every numbered group.
 */
export function rolloutGroups(
  clusters: readonly string[],
  groupOf: (cluster: string) => DecisionGroup | undefined,
): RolloutGroup[] {
  const groups = new Map<number, RolloutGroup>();
  for (const cluster of [...new Set(clusters)].sort()) {
    const group = groupOf(cluster) ?? { index: Infinity, name: "" };
    const entry = groups.get(group.index) ?? { index: group.index, name: group.name, clusters: [] };
    if (entry.name === "") entry.name = group.name;
    entry.clusters.push(cluster);
    groups.set(group.index, entry);
  }
  return [...groups.values()].sort((a, b) => a.index - b.index);
}

/** How a group is named in messages: `decision group 1 (canary)`. */
export function groupLabel(group: RolloutGroup): string {
  const index = Number.isFinite(group.index)
    ? `decision group ${group.index}`
    : "the decisions without a group index";
  return group.name ? `${index} (${group.name})` : index;
}

/** What one template of a cluster's replica says about the current content. */
export type TemplateEvidence =
  | { template: string; state: "reported"; compliant: ComplianceState; enforce: boolean }
  /** Applied, and of a kind whose compliance is not fed back: nothing more to wait for. */
  | { template: string; state: "applied" }
  | { template: string; state: "waiting"; reason: string };

/** What a cluster's replica says about the current content; `missing` when it has none for it. */
export type ClusterEvidence = { missing: string } | { templates: readonly TemplateEvidence[] };

export interface ClusterOutcome {
  succeeded: boolean;
  /** Why not, when not. */
  reason?: string;
}

/**
 * Whether a cluster succeeded with the current content: every template reported on it (or, for
 * kinds whose compliance is not fed back, applied it), and each enforced template is Compliant
 * and each informing one Compliant or NonCompliant.
 */
export function clusterOutcome(evidence: ClusterEvidence): ClusterOutcome {
  if ("missing" in evidence) return { succeeded: false, reason: evidence.missing };
  const reasons: string[] = [];
  for (const template of evidence.templates) {
    if (template.state === "waiting") reasons.push(template.reason);
    else if (template.state === "reported") {
      const ok = template.enforce
        ? template.compliant === ComplianceStates.compliant
        : template.compliant === ComplianceStates.compliant ||
          template.compliant === ComplianceStates.nonCompliant;
      if (!ok) reasons.push(messages.notCompliant(template.template, template.compliant));
    }
  }
  return reasons.length === 0 ? { succeeded: true } : { succeeded: false, reason: reasons.join("; ") };
}

// ---------------------------------------------------------------------------------------------
// The rollout step

export interface RolloutInput {
  /** The root's annotations: the settings and the persisted state. */
  annotations: Readonly<Record<string, string>> | undefined;
  disabled: boolean;
  /** rolloutRevision of the root's spec. */
  revision: string;
  /** The placed clusters by decision group (rolloutGroups). */
  groups: readonly RolloutGroup[];
  /** How a cluster of a released group is doing with the current content; asked only for those. */
  outcome: (cluster: string) => ClusterOutcome;
  nowMs: number;
}

export interface RolloutEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface RolloutDecision {
  /** Whether the root rolls out progressively (then its replicas carry the revision). */
  progressive: boolean;
  /** The clusters that may get the current content; undefined: every placed cluster. */
  released: ReadonlySet<string> | undefined;
  /** What the status annotation should hold; undefined: no annotation. */
  state: RolloutState | undefined;
  events: RolloutEvent[];
  /** When the latest group's deadline ends, if the rollout is waiting for it. */
  requeueAfterMs?: number;
}

/** Clusters listed in a message before `and N more`. */
const listed = 10;

function listOf(items: readonly string[]): string {
  const shown = items.slice(0, listed);
  if (items.length > listed) shown.push(`and ${items.length - listed} more`);
  return shown.join(", ");
}

function releasedClusters(groups: readonly RolloutGroup[], count: number): Set<string> {
  return new Set(groups.slice(0, count).flatMap((group) => group.clusters));
}

function sameState(a: RolloutState | undefined, b: RolloutState): boolean {
  return a !== undefined && formatRolloutState(a) === formatRolloutState(b);
}

/** The rollout's next state and the clusters it releases now. */
export function nextRollout(input: RolloutInput): RolloutDecision {
  const { groups, revision, nowMs } = input;
  const settings = rolloutSettings(input.annotations);
  if (input.disabled || settings.mode === "off")
    return { progressive: false, released: undefined, state: undefined, events: [] };

  const stored = parseRolloutState(input.annotations?.[BosunPolicyRollout.statusAnnotation]);
  const previous = stored?.revision === revision ? stored : undefined;
  const eventsOut: RolloutEvent[] = [];

  if (settings.mode === "invalid") {
    const state: RolloutState = {
      revision,
      phase: phases.halted,
      reason: haltReasons.invalidAnnotation,
      releasedGroups: previous?.releasedGroups ?? 0,
      releasedAt: previous?.releasedAt ?? [],
      message: settings.message,
    };
    if (!sameState(previous, state))
      eventsOut.push({ type: "Warning", reason: events.halted, message: settings.message });
    return {
      progressive: true,
      released: releasedClusters(groups, state.releasedGroups),
      state,
      events: eventsOut,
    };
  }

  let state: RolloutState = previous
    ? { ...previous, releasedAt: [...previous.releasedAt] }
    : { revision, phase: phases.progressing, releasedGroups: 0, releasedAt: [], message: "" };
  if (state.phase === phases.halted && state.reason !== haltReasons.deadlineExceeded) {
    // The annotation was fixed: carry on, the latest group's deadline counting from now.
    const { reason: _fixed, ...rest } = state;
    state = { ...rest, phase: phases.progressing };
    if (state.releasedGroups > 0) state.releasedAt[state.releasedGroups - 1] = new Date(nowMs).toISOString();
  }
  if (state.phase === phases.succeeded)
    return { progressive: true, released: undefined, state, events: eventsOut };
  if (state.phase === phases.halted)
    return {
      progressive: true,
      released: releasedClusters(groups, state.releasedGroups),
      state,
      events: eventsOut,
    };

  let requeueAfterMs: number | undefined;
  const release = (): void => {
    const group = groups[state.releasedGroups]!;
    state.releasedGroups++;
    state.releasedAt.push(new Date(nowMs).toISOString());
    eventsOut.push({
      type: "Normal",
      reason: events.groupReleased,
      message: messages.released(groupLabel(group), listOf(group.clusters)),
    });
  };
  const outcomes = new Map<string, ClusterOutcome>();
  const outcomeOf = (cluster: string): ClusterOutcome => {
    let known = outcomes.get(cluster);
    if (!known) {
      known = input.outcome(cluster);
      outcomes.set(cluster, known);
    }
    return known;
  };

  if (groups.length === 0) {
    state.message = messages.noClusters;
  } else {
    if (state.releasedGroups === 0) release();
    for (;;) {
      const released = groups.slice(0, state.releasedGroups);
      const failing = released
        .flatMap((group) => group.clusters)
        .map((cluster) => ({ cluster, outcome: outcomeOf(cluster) }))
        .filter(({ outcome }) => !outcome.succeeded);
      const latest = released[released.length - 1]!;
      if (failing.length === 0) {
        if (state.releasedGroups < groups.length) {
          release();
          continue;
        }
        state.phase = phases.succeeded;
        state.message = messages.succeeded(groups.length);
        eventsOut.push({ type: "Normal", reason: events.succeeded, message: state.message });
        break;
      }
      // Groups may have shrunk since the latest release: its time is the last one recorded.
      const releasedAtMs = Date.parse(state.releasedAt[state.releasedAt.length - 1]!);
      const deadlineAtMs = releasedAtMs + settings.deadlineMs;
      if (nowMs >= deadlineAtMs) {
        const failures = failing.map(({ cluster, outcome }) => `${cluster} (${outcome.reason ?? ""})`);
        state.phase = phases.halted;
        state.reason = haltReasons.deadlineExceeded;
        state.message = messages.halted(groupLabel(latest), settings.deadline, listOf(failures));
        eventsOut.push({ type: "Warning", reason: events.halted, message: state.message });
        break;
      }
      state.message = messages.waiting(
        groupLabel(latest),
        Math.min(state.releasedGroups, groups.length),
        groups.length,
      );
      requeueAfterMs = deadlineAtMs - nowMs;
      break;
    }
  }
  const released =
    state.phase === phases.succeeded ? undefined : releasedClusters(groups, state.releasedGroups);
  return {
    progressive: true,
    released,
    state,
    events: eventsOut,
    ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
  };
}
