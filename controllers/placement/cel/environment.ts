// The CEL environment of Placement celSelector expressions: one variable, `managedCluster` (the
// ManagedCluster as a map), OCM's functions (`managedCluster.scores(name)`, `parseJSON`, semver,
// quantities, Kubernetes lists and regex) and a cost limit per expression and per cluster.
//
// Compilation and cost metering are the generic ones of runtime/cel/program.ts.
import {
  CelScalar,
  celEnv,
  celMethod,
  isCelError,
  isCelMap,
  listType,
  type CelEnv,
  type CelInput,
  type CelResult,
} from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import type { AddOnPlacementScore, ManagedCluster } from "../../../api/types/cluster.ts";
import { jsonLibrary, kubernetesLibrary } from "../../../runtime/cel/library.ts";
import {
  compileExpression,
  iterationCostLibrary,
  meteredEnv,
  type CostMeter,
} from "../../../runtime/cel/program.ts";
import { celTypeName, jsonToCel } from "../../../runtime/cel/values.ts";

/** The apiserver's limits, which OCM applies: per expression and per cluster (all expressions). */
export interface CelLimits {
  perCallLimit: number;
  perClusterBudget: number;
}

export const defaultCelLimits: CelLimits = { perCallLimit: 1_000_000, perClusterBudget: 10_000_000 };

/** Finds the AddOnPlacementScore `name` in the namespace of cluster `clusterName`. */
export type ScoreLookup = (clusterName: string, name: string) => AddOnPlacementScore | undefined;

export type CompileResult = { ok: true; program: CelProgram } | { ok: false; message: string };

export interface CelProgram {
  readonly expression: string;
  /** Evaluates against the prepared activation; throws CostExceeded through the meter. */
  readonly run: (bindings: Record<string, CelInput>) => CelResult;
}

/** How one cluster fared against a list of expressions (ANDed). */
export type CelMatch = { matched: true } | { matched: false; index: number; reason: string };

const variable = "managedCluster";
const variables: ReadonlySet<string> = new Set([variable]);

export class PlacementCel {
  readonly limits: CelLimits;
  private readonly meter: CostMeter = { call: 0, budget: 0 };
  private readonly env: CelEnv;
  private readonly programs = new Map<string, CompileResult>();
  private readonly clusterValues = new WeakMap<ManagedCluster, CelInput>();
  private scoreLookup: ScoreLookup = () => undefined;

  constructor(limits: Partial<CelLimits> = {}) {
    this.limits = { ...defaultCelLimits, ...limits };
    const base = celEnv({
      funcs: [
        ...strings,
        ...kubernetesLibrary(),
        ...jsonLibrary(),
        this.scoresFunction(),
        ...iterationCostLibrary(),
      ],
    });
    this.env = meteredEnv(base, this.meter, {
      call: `operation cancelled: actual cost limit exceeded (${this.limits.perCallLimit})`,
      budget: `operation cancelled: cluster cost budget exceeded (${this.limits.perClusterBudget})`,
    });
  }

  private scoresFunction() {
    const lookup = () => this.scoreLookup;
    return celMethod("scores", CelScalar.DYN, [CelScalar.STRING], listType(CelScalar.DYN), function (name) {
      const metadata = isCelMap(this) ? this.get("metadata") : undefined;
      const clusterName = isCelMap(metadata) ? metadata.get("name") : undefined;
      if (typeof clusterName !== "string") throw new Error(`no such overload: ${celTypeName(this)}.scores`);
      const score = lookup()(clusterName, name);
      if (!score) throw new Error(`AddOnPlacementScore ${clusterName}/${name} not found`);
      return (score.status?.scores ?? []).map((s) => ({ name: s.name, value: BigInt(s.value) }));
    });
  }

  /** Compiles (and caches) an expression. A failure carries OCM's "compilation failed: ..." message. */
  compile(expression: string): CompileResult {
    const cached = this.programs.get(expression);
    if (cached) return cached;
    const result = this.compileUncached(expression);
    this.programs.set(expression, result);
    return result;
  }

  private compileUncached(expression: string): CompileResult {
    const compiled = compileExpression(this.env, expression, variables);
    if (compiled.ok) return { ok: true, program: { expression, run: compiled.evaluate } };
    const prefix = compiled.stage === "plan" ? "instantiation failed" : "compilation failed";
    return { ok: false, message: `${prefix}: ${compiled.summary}` };
  }

  /** The ManagedCluster as CEL sees it, converted once per object. */
  clusterValue(cluster: ManagedCluster): CelInput {
    let value = this.clusterValues.get(cluster);
    if (value === undefined) {
      value = jsonToCel(cluster);
      this.clusterValues.set(cluster, value);
    }
    return value;
  }

  /**
   * Evaluates ANDed expressions for one cluster with a fresh per-cluster budget. Runtime errors,
   * non-bool results and exhausted budgets make the cluster not match; they never throw.
   */
  matchCluster(programs: readonly CelProgram[], cluster: ManagedCluster, scores: ScoreLookup): CelMatch {
    this.meter.budget = this.limits.perClusterBudget;
    return this.matchWithinBudget(programs, cluster, scores);
  }

  /** Like matchCluster, but charged to the budget of the cluster being evaluated (several predicates). */
  matchWithinBudget(programs: readonly CelProgram[], cluster: ManagedCluster, scores: ScoreLookup): CelMatch {
    this.scoreLookup = scores;
    const bindings = { [variable]: this.clusterValue(cluster) };
    for (let index = 0; index < programs.length; index++) {
      const program = programs[index]!;
      this.meter.call = this.limits.perCallLimit;
      let result: CelResult;
      try {
        result = program.run(bindings);
      } catch (error) {
        return { matched: false, index, reason: (error as Error).message };
      }
      if (isCelError(result)) return { matched: false, index, reason: result.message };
      if (result !== true) {
        return {
          matched: false,
          index,
          reason:
            typeof result === "boolean" ? "evaluated to false" : `returned ${celTypeName(result)}, not bool`,
        };
      }
    }
    return { matched: true };
  }

  /** Starts a new cluster's budget (for callers that spread one cluster over several calls). */
  resetClusterBudget(): void {
    this.meter.budget = this.limits.perClusterBudget;
  }
}
