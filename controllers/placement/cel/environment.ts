// The CEL environment of Placement celSelector expressions: one variable, `managedCluster` (the
// ManagedCluster as a map), OCM's functions (`managedCluster.scores(name)`, `parseJSON`, semver,
// quantities, Kubernetes lists and regex) and a cost limit per expression and per cluster.
//
// @bufbuild/cel has no type checker and no cost tracking, so "compiling" here means parsing,
// resolving every identifier and function name, and planning; and cost is metered at run time:
// every function call costs 1 plus a tenth of the size of its string and list arguments, and
// every comprehension iteration costs 1. An exhausted budget aborts the evaluation at once.
import {
  CelScalar,
  celEnv,
  celMethod,
  isCelError,
  isCelList,
  isCelMap,
  listType,
  parse,
  plan,
  type CelEnv,
  type CelInput,
  type CelResult,
  type CelValue,
} from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import type { AddOnPlacementScore, ManagedCluster } from "../../../api/types/cluster.ts";
import { bosunLibrary } from "./library.ts";
import { celTypeName, jsonToCel } from "./values.ts";

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

type ParsedExpr = ReturnType<typeof parse>;
type Expr = NonNullable<ParsedExpr["expr"]>;

class CostExceeded extends Error {}

interface Meter {
  call: number;
  cluster: number;
}

// Operators the planner implements itself rather than through the function resolver.
const plannerOperators = new Set([
  "_[_]",
  "_[?_]",
  "_?._",
  "_?_:_",
  "_&&_",
  "_||_",
  "@not_strictly_false",
  "__not_strictly_false__",
]);

const typeIdentifiers = new Set([
  "int",
  "uint",
  "double",
  "bool",
  "string",
  "bytes",
  "list",
  "map",
  "null_type",
  "type",
  "dyn",
]);

const variable = "managedCluster";
const costFunction = "@cost";

function sizeCost(value: CelValue | undefined): number {
  if (typeof value === "string") return Math.ceil(value.length / 10);
  if (isCelList(value) || isCelMap(value)) return Math.ceil(value.size / 10);
  return 0;
}

function qualifiedName(expr: Expr | undefined): string | undefined {
  switch (expr?.exprKind.case) {
    case "identExpr":
      return expr.exprKind.value.name;
    case "selectExpr": {
      const parent = qualifiedName(expr.exprKind.value.operand);
      return parent === undefined || expr.exprKind.value.testOnly
        ? undefined
        : `${parent}.${expr.exprKind.value.field}`;
    }
    case "callExpr":
    case "comprehensionExpr":
    case "constExpr":
    case "listExpr":
    case "structExpr":
    case undefined:
      return undefined;
  }
}

export class PlacementCel {
  readonly limits: CelLimits;
  private readonly meter: Meter = { call: 0, cluster: 0 };
  private readonly env: CelEnv;
  private readonly programs = new Map<string, CompileResult>();
  private readonly clusterValues = new WeakMap<ManagedCluster, CelInput>();
  private scoreLookup: ScoreLookup = () => undefined;

  constructor(limits: Partial<CelLimits> = {}) {
    this.limits = { ...defaultCelLimits, ...limits };
    const base = celEnv({
      funcs: [...strings, ...bosunLibrary(), this.scoresFunction(), this.costFunction()],
    });
    this.env = this.metered(base);
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

  private costFunction() {
    return celMethod(costFunction, CelScalar.DYN, [], CelScalar.DYN, function () {
      return this;
    });
  }

  /** The base environment with every function call charged to the meter. */
  private metered(base: CelEnv): CelEnv {
    const meter = this.meter;
    const limits = this.limits;
    const charge = (cost: number): void => {
      meter.call -= cost;
      meter.cluster -= cost;
      if (meter.call < 0) {
        throw new CostExceeded(`operation cancelled: actual cost limit exceeded (${limits.perCallLimit})`);
      }
      if (meter.cluster < 0) {
        throw new CostExceeded(
          `operation cancelled: cluster cost budget exceeded (${limits.perClusterBudget})`,
        );
      }
    };
    const groups = new Map<string, unknown>();
    const funcs = {
      [Symbol.iterator]: () => base.funcs[Symbol.iterator](),
      find(name: string) {
        if (groups.has(name)) return groups.get(name);
        const group = base.funcs.find(name);
        const wrapped = group && {
          name: group.name,
          [Symbol.iterator]: () => group[Symbol.iterator](),
          call(id: number, target: CelValue | undefined, args: CelValue[]) {
            let cost = 1 + sizeCost(target);
            for (const arg of args) cost += sizeCost(arg);
            charge(cost);
            return group.call(id, target, args);
          },
        };
        groups.set(name, wrapped);
        return wrapped;
      },
    };
    // plan() reads only namespace, registry and funcs from the environment.
    return {
      namespace: base.namespace,
      registry: base.registry,
      variables: base.variables,
      funcs,
    } as unknown as CelEnv;
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
    let parsed: ParsedExpr;
    try {
      parsed = parse(expression);
    } catch (error) {
      return { ok: false, message: `compilation failed: ${(error as Error).message}` };
    }
    const problems: string[] = [];
    let nextId = 1_000_000n;
    const visit = (expr: Expr | undefined, scope: ReadonlySet<string>): void => {
      if (!expr) return;
      const kind = expr.exprKind;
      switch (kind.case) {
        case "identExpr":
          if (
            !scope.has(kind.value.name) &&
            kind.value.name !== variable &&
            !typeIdentifiers.has(kind.value.name)
          ) {
            problems.push(`undeclared reference to '${kind.value.name}'`);
          }
          return;
        case "selectExpr":
          visit(kind.value.operand, scope);
          return;
        case "callExpr": {
          const call = kind.value;
          const qualifier = qualifiedName(call.target);
          if (qualifier !== undefined && !scope.has(qualifier.split(".")[0]!)) {
            if (this.env.funcs.find(`${qualifier}.${call.function}`)) {
              for (const arg of call.args) visit(arg, scope);
              return;
            }
          }
          if (!plannerOperators.has(call.function) && !this.env.funcs.find(call.function)) {
            problems.push(`undeclared reference to '${call.function}'`);
          }
          visit(call.target, scope);
          for (const arg of call.args) visit(arg, scope);
          return;
        }
        case "listExpr":
          for (const element of kind.value.elements) visit(element, scope);
          return;
        case "structExpr":
          for (const entry of kind.value.entries) {
            if (entry.keyKind.case === "mapKey") visit(entry.keyKind.value, scope);
            visit(entry.value, scope);
          }
          return;
        case "comprehensionExpr": {
          const c = kind.value;
          visit(c.iterRange, scope);
          visit(c.accuInit, scope);
          const inner = new Set([...scope, c.iterVar, c.accuVar]);
          visit(c.loopCondition, inner);
          visit(c.loopStep, inner);
          visit(c.result, new Set([...scope, c.accuVar]));
          // Charge every iteration: the step runs once per element.
          if (c.loopStep) {
            c.loopStep = {
              $typeName: "cel.expr.Expr",
              id: nextId++,
              exprKind: {
                case: "callExpr",
                value: {
                  $typeName: "cel.expr.Expr.Call",
                  function: costFunction,
                  target: c.loopStep,
                  args: [],
                },
              },
            };
          }
          return;
        }
        case "constExpr":
        case undefined:
          return;
      }
    };
    visit(parsed.expr, new Set());
    if (problems.length > 0) {
      return { ok: false, message: `compilation failed: ${[...new Set(problems)].join("; ")}` };
    }
    let evaluate: (bindings: Record<string, CelInput>) => CelResult;
    try {
      evaluate = plan(this.env, parsed);
    } catch (error) {
      return { ok: false, message: `instantiation failed: ${(error as Error).message}` };
    }
    return { ok: true, program: { expression, run: evaluate } };
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
    this.meter.cluster = this.limits.perClusterBudget;
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
    this.meter.cluster = this.limits.perClusterBudget;
  }
}
