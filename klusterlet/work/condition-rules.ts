// A manifest's conditionRules, evaluated against its live object as OCM's work agent does.
//
// CEL rules set their condition True when every celExpressions entry evaluates to true, and
// False (reason ConditionRuleEvaluated) at the first false one. An expression that does not
// compile, fails to evaluate or does not return a bool makes the condition False with reason
// ConditionRuleExpressionError and the error as message; a failure to instantiate a compiled
// expression makes it Unknown with ConditionRuleInternalError. WellKnownConditions rules use the
// built-in rule for the object's kind (Complete for batch/v1 Job and v1 Pod) and set nothing for
// other kinds. Any other type gives Unknown ConditionRuleInvalid.
//
// Expressions see `object` (the live object); messageExpression also sees `result` (the bool
// outcome). The message is the messageExpression's non-empty string result, else `message`,
// else "Manifest is <condition>" / "Manifest is not <condition>".
//
// Every expression is metered (see runtime/cel/program.ts): each rule expression may cost up
// to the per-call limit, and all expressions of one manifest share one budget; once it is spent,
// every further expression fails with "CEL evaluation budget exceeded".
import {
  CelScalar,
  celEnv,
  celFunc,
  isCelError,
  isCelList,
  isCelMap,
  isCelUint,
  type CelEnv,
  type CelInput,
  type CelValue,
} from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import {
  ConditionStatus,
  ManifestWorkMessages,
  ManifestWorkReasons,
  Work,
  type ConditionStatusValue,
} from "../../api/constants.ts";
import type { ConditionRule } from "../../api/types/work.ts";
import type { Condition, ConditionUpdate } from "../../runtime/conditions.ts";
import { kubernetesLibrary } from "../../runtime/cel/library.ts";
import {
  compileExpression,
  formatProblems,
  iterationCostLibrary,
  meteredEnv,
  type CompiledExpression,
  type CostMeter,
} from "../../runtime/cel/program.ts";
import { jsonToCel } from "../../runtime/cel/values.ts";
import { groupVersionKindOf, type GroupVersionKind } from "./feedback.ts";

export interface ConditionRuleLimits {
  /** The most one rule expression may cost. */
  perCallLimit: number;
  /** The most all expressions of one manifest's rules may cost together. */
  budget: number;
}

export const defaultConditionRuleLimits: ConditionRuleLimits = {
  perCallLimit: Work.conditionRuleCelPerCallLimit,
  budget: Work.conditionRuleCelBudget,
};

/** Compiled programs are dropped all at once when this many distinct expressions accumulate. */
const maxCachedExpressions = 4096;

export type ExpressionKind = "rule" | "message";

const ruleVariables: ReadonlySet<string> = new Set(["object"]);
const messageVariables: ReadonlySet<string> = new Set(["object", "result"]);

/** `hasConditions(m)`: m is a map whose `conditions` is a non-empty list. */
function hasConditionsFunction() {
  return celFunc("hasConditions", [CelScalar.DYN], CelScalar.BOOL, (value: CelValue) => {
    if (!isCelMap(value)) return false;
    const conditions = value.get("conditions");
    return isCelList(conditions) && conditions.size > 0;
  });
}

/**
 * The condition-rule CEL environment with its meter and the programs compiled so far. One
 * instance serves every work of an agent; each distinct expression is compiled once.
 */
export class ConditionRuleCache {
  readonly limits: ConditionRuleLimits;
  readonly meter: CostMeter = { call: 0, budget: 0 };
  private readonly env: CelEnv;
  private readonly compiled = new Map<string, CompiledExpression>();

  constructor(limits: Partial<ConditionRuleLimits> = {}) {
    this.limits = { ...defaultConditionRuleLimits, ...limits };
    const base = celEnv({
      funcs: [...strings, ...kubernetesLibrary(), hasConditionsFunction(), ...iterationCostLibrary()],
    });
    this.env = meteredEnv(base, this.meter, {
      call: ManifestWorkMessages.celCostLimitExceeded,
      budget: ManifestWorkMessages.celBudgetExceeded,
    });
  }

  /** The number of compiled expressions held. */
  get size(): number {
    return this.compiled.size;
  }

  /** Compiles `expression` (once) for a rule's celExpressions or its messageExpression. */
  compile(expression: string, kind: ExpressionKind): CompiledExpression {
    const key = `${kind}\u0000${expression}`;
    let compiled = this.compiled.get(key);
    if (compiled === undefined) {
      if (this.compiled.size >= maxCachedExpressions) this.compiled.clear();
      compiled = compileExpression(this.env, expression, kind === "rule" ? ruleVariables : messageVariables);
      this.compiled.set(key, compiled);
    }
    return compiled;
  }
}

export interface WellKnownConditionRule extends GroupVersionKind {
  rule: ConditionRule;
}

/** The built-in WellKnownConditions rules OCM defines. */
export const wellKnownConditionRules: readonly WellKnownConditionRule[] = [
  {
    group: "batch",
    version: "v1",
    kind: "Job",
    rule: {
      condition: "Complete",
      type: "CEL",
      celExpressions: [
        "hasConditions(object.status) ? object.status.conditions.filter(c, c.type == 'Complete' || c.type == 'Failed').exists(c, c.status == 'True') : false",
      ],
      messageExpression: 'result ? "Job is finished" : "Job is not finished"',
    },
  },
  {
    group: "",
    version: "v1",
    kind: "Pod",
    rule: {
      condition: "Complete",
      type: "CEL",
      celExpressions: ["object.status.phase in ['Succeeded', 'Failed']"],
      messageExpression: '"Pod is in phase " + object.status.phase',
    },
  },
];

/** The built-in rule for a kind and condition type, if OCM has one. */
export function wellKnownConditionRule(gvk: GroupVersionKind, condition: string): ConditionRule | undefined {
  return wellKnownConditionRules.find(
    (r) =>
      r.group === gvk.group &&
      r.version === gvk.version &&
      r.kind === gvk.kind &&
      r.rule.condition === condition,
  )?.rule;
}

/** True for the conditions condition rules produce: their reason starts with "ConditionRule". */
export function isConditionRuleCondition(condition: Pick<Condition, "reason">): boolean {
  return condition.reason.startsWith(Work.conditionRuleReasonPrefix);
}

/**
 * Drops rule-produced conditions not written for `generation`: removing a rule always bumps the
 * work's generation, so they belong to rules that no longer exist.
 */
export function pruneRuleConditions(
  conditions: readonly Condition[] | undefined,
  generation: number,
): Condition[] {
  return (conditions ?? []).filter(
    (c) => !isConditionRuleCondition(c) || (c.observedGeneration ?? 0) === generation,
  );
}

/** The Go type cel-go's Value() has for a result, as reflect.TypeOf prints it. */
function goResultType(value: CelValue): string {
  if (typeof value === "string") return "string";
  if (typeof value === "bigint") return "int64";
  if (typeof value === "number") return "float64";
  if (typeof value === "boolean") return "bool";
  if (value === null) return "structpb.NullValue";
  if (isCelUint(value)) return "uint64";
  if (value instanceof Uint8Array) return "[]uint8";
  if (isCelList(value)) return "[]interface {}";
  if (isCelMap(value)) return "map[string]interface {}";
  return "object";
}

type RunResult = { ok: true; value: CelValue } | { ok: false; error: string };

/**
 * An evaluation error in cel-go's words, where the wording differs: reading a key a map lacks
 * (the usual failure, a field missing from the object) is "no such key: <key>".
 */
export function celGoErrorText(message: string): string {
  const missing = /^field not found: (.*)$/s.exec(message);
  return missing ? `no such key: ${missing[1]}` : message;
}

/** One manifest's evaluation: its object as CEL sees it and what is left of its budget. */
interface Evaluation {
  readonly cache: ConditionRuleCache;
  readonly object: CelInput;
  remaining: number;
}

function run(
  evaluation: Evaluation,
  compiled: Extract<CompiledExpression, { ok: true }>,
  bindings: Record<string, CelInput>,
  kind: ExpressionKind,
): RunResult {
  const { cache } = evaluation;
  if (evaluation.remaining < 0) return { ok: false, error: ManifestWorkMessages.celBudgetExceeded };
  const before = evaluation.remaining;
  cache.meter.call = kind === "rule" ? cache.limits.perCallLimit : Number.POSITIVE_INFINITY;
  cache.meter.budget = evaluation.remaining;
  let result: CelValue | undefined;
  let failure: string | undefined;
  try {
    const outcome = compiled.evaluate(bindings);
    if (isCelError(outcome)) failure = celGoErrorText(outcome.message);
    else result = outcome;
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
  }
  if (cache.meter.budget < 0) {
    evaluation.remaining = -1;
    return { ok: false, error: ManifestWorkMessages.celBudgetExceeded };
  }
  if (failure !== undefined || result === undefined) {
    // A failed rule expression gives back what it spent; a failed message expression does not.
    evaluation.remaining = kind === "rule" ? before : cache.meter.budget;
    return { ok: false, error: failure ?? "no result" };
  }
  evaluation.remaining = cache.meter.budget;
  return { ok: true, value: result };
}

interface ExpressionsOutcome {
  status: ConditionStatusValue;
  reason: string;
  error?: string;
}

function evaluateExpressions(evaluation: Evaluation, expressions: readonly string[]): ExpressionsOutcome {
  for (const expression of expressions) {
    const compiled = evaluation.cache.compile(expression, "rule");
    if (!compiled.ok) {
      if (compiled.stage === "plan") {
        return {
          status: ConditionStatus.Unknown,
          reason: ManifestWorkReasons.conditionRuleInternalError,
          error: compiled.summary,
        };
      }
      return {
        status: ConditionStatus.False,
        reason: ManifestWorkReasons.conditionRuleExpressionError,
        error: compileErrorText(expression, compiled),
      };
    }
    const result = run(evaluation, compiled, { object: evaluation.object }, "rule");
    if (!result.ok) {
      return {
        status: ConditionStatus.False,
        reason: ManifestWorkReasons.conditionRuleExpressionError,
        error: result.error,
      };
    }
    if (typeof result.value !== "boolean") {
      return {
        status: ConditionStatus.False,
        reason: ManifestWorkReasons.conditionRuleExpressionError,
        error: `expected bool result, got ${goResultType(result.value)}`,
      };
    }
    if (!result.value)
      return { status: ConditionStatus.False, reason: ManifestWorkReasons.conditionRuleEvaluated };
  }
  return { status: ConditionStatus.True, reason: ManifestWorkReasons.conditionRuleEvaluated };
}

/** A compile failure as cel-go reports it: `ERROR: <input>:1:5: ...` with the source snippet. */
function compileErrorText(expression: string, compiled: Extract<CompiledExpression, { ok: false }>): string {
  const problems = compiled.problems.map((p) => ({
    ...p,
    message: compiled.stage === "parse" ? `Syntax error: ${p.message}` : `${p.message} (in container '')`,
  }));
  return formatProblems(expression, problems);
}

function conditionMessage(evaluation: Evaluation, rule: ConditionRule, result: boolean): string {
  if (rule.messageExpression) {
    const compiled = evaluation.cache.compile(rule.messageExpression, "message");
    if (!compiled.ok) {
      // cel-go's issues without the source snippet.
      if (compiled.stage === "plan") return compiled.summary;
      return compileErrorText(rule.messageExpression, compiled).split("\n | ")[0]!;
    }
    const outcome = run(evaluation, compiled, { object: evaluation.object, result }, "message");
    if (!outcome.ok) return outcome.error;
    if (typeof outcome.value !== "string") {
      return `expected message expression to have a string result, got ${goResultType(outcome.value)}`;
    }
    if (outcome.value !== "") return outcome.value;
  }
  if (rule.message) return rule.message;
  return result ? `Manifest is ${rule.condition}` : `Manifest is not ${rule.condition}`;
}

function celCondition(evaluation: Evaluation, rule: ConditionRule): ConditionUpdate {
  const outcome = evaluateExpressions(evaluation, rule.celExpressions ?? []);
  const message =
    outcome.error ?? conditionMessage(evaluation, rule, outcome.status === ConditionStatus.True);
  return { type: rule.condition, status: outcome.status, reason: outcome.reason, message };
}

function conditionByRule(
  evaluation: Evaluation,
  gvk: GroupVersionKind,
  rule: ConditionRule,
): ConditionUpdate | undefined {
  switch (rule.type) {
    case "WellKnownConditions": {
      const known = wellKnownConditionRule(gvk, rule.condition);
      if (!known) return undefined;
      return celCondition(evaluation, {
        ...known,
        message: rule.message || known.message,
        messageExpression: rule.messageExpression || known.messageExpression,
      });
    }
    case "CEL":
      return celCondition(evaluation, rule);
    default:
      return {
        type: rule.condition,
        status: ConditionStatus.Unknown,
        reason: ManifestWorkReasons.conditionRuleInvalid,
        message: `unrecognized condition rule type ${String(rule.type)}`,
      };
  }
}

/**
 * The conditions a manifest's rules produce, in rule order, each stamped with `generation` as
 * observedGeneration. WellKnownConditions rules for kinds without a built-in rule produce none.
 */
export function evaluateConditionRules(
  object: unknown,
  rules: readonly ConditionRule[] | undefined,
  cache: ConditionRuleCache,
  generation: number,
): ConditionUpdate[] {
  if (!rules || rules.length === 0) return [];
  const evaluation: Evaluation = { cache, object: jsonToCel(object), remaining: cache.limits.budget };
  const gvk = groupVersionKindOf(object);
  const conditions: ConditionUpdate[] = [];
  for (const rule of rules) {
    const condition = conditionByRule(evaluation, gvk, rule);
    if (condition) conditions.push({ ...condition, observedGeneration: generation });
  }
  return conditions;
}
