// Compiling and metering CEL expressions on top of @bufbuild/cel, for any environment.
//
// @bufbuild/cel has no type checker and no cost tracking, so "compiling" here means parsing,
// resolving every identifier and function name against the declared variables and the
// environment's functions, and planning; and cost is metered at run time: every function call
// costs 1 plus a tenth of the size of its string, list and map arguments, and every
// comprehension iteration costs 1. An exhausted limit aborts the evaluation at once.
import {
  CelScalar,
  celMethod,
  isCelList,
  isCelMap,
  parse,
  plan,
  type CelEnv,
  type CelFunc,
  type CelInput,
  type CelResult,
  type CelValue,
} from "@bufbuild/cel";

/** Remaining cost, charged by every metered call: one expression's share and a wider budget. */
export interface CostMeter {
  /** What the expression being evaluated may still spend. */
  call: number;
  /** What every expression of the current batch (a cluster, a manifest) may still spend. */
  budget: number;
}

/** The error messages for an exhausted per-expression limit and an exhausted budget. */
export interface CostMessages {
  call: string;
  budget: string;
}

export type CostLimitKind = "call" | "budget";

/** Thrown through the evaluation when a meter runs out. */
export class CostExceeded extends Error {
  readonly kind: CostLimitKind;

  constructor(kind: CostLimitKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** One reason an expression does not compile; offset is its position in the expression. */
export interface CompileProblem {
  message: string;
  offset: number | undefined;
}

export type CompileStage = "parse" | "check" | "plan";

export type Evaluate = (bindings: Record<string, CelInput>) => CelResult;

export type CompiledExpression =
  | { ok: true; evaluate: Evaluate }
  | {
      ok: false;
      stage: CompileStage;
      problems: CompileProblem[];
      /** The problems in one line, e.g. `undeclared reference to 'foo'`. */
      summary: string;
    };

type ParsedExpr = ReturnType<typeof parse>;
type Expr = NonNullable<ParsedExpr["expr"]>;

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

/** The internal method compileExpression wraps comprehension steps in, to charge iterations. */
export const iterationCostFunction = "@cost";

/** The identity method behind iterationCostFunction; every metered environment must offer it. */
export function iterationCostLibrary(): CelFunc[] {
  return [
    celMethod(iterationCostFunction, CelScalar.DYN, [], CelScalar.DYN, function () {
      return this;
    }),
  ];
}

function sizeCost(value: CelValue | undefined): number {
  if (typeof value === "string") return Math.ceil(value.length / 10);
  if (isCelList(value) || isCelMap(value)) return Math.ceil(value.size / 10);
  return 0;
}

/** The environment with every function call charged to `meter`; throws CostExceeded. */
export function meteredEnv(base: CelEnv, meter: CostMeter, messages: CostMessages): CelEnv {
  const charge = (cost: number): void => {
    meter.call -= cost;
    meter.budget -= cost;
    if (meter.call < 0) throw new CostExceeded("call", messages.call);
    if (meter.budget < 0) throw new CostExceeded("budget", messages.budget);
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

interface SyntaxErrorShape {
  rawMessage?: unknown;
  location?: { start?: { offset?: unknown } };
}

function failure(stage: CompileStage, problems: CompileProblem[], summary: string): CompiledExpression {
  return { ok: false, stage, problems, summary };
}

/**
 * Parses, checks and plans `expression` against `env` (which must include iterationCostLibrary
 * when metered). Identifiers must be comprehension variables, type names or one of `variables`.
 */
export function compileExpression(
  env: CelEnv,
  expression: string,
  variables: ReadonlySet<string>,
): CompiledExpression {
  let parsed: ParsedExpr;
  try {
    parsed = parse(expression);
  } catch (error) {
    const shape = error as SyntaxErrorShape;
    const offset = shape.location?.start?.offset;
    const raw = typeof shape.rawMessage === "string" ? shape.rawMessage : (error as Error).message;
    return failure(
      "parse",
      [{ message: raw, offset: typeof offset === "number" ? offset : undefined }],
      (error as Error).message,
    );
  }
  const positions = parsed.sourceInfo?.positions ?? {};
  const offsetOf = (expr: Expr): number | undefined => positions[expr.id.toString()];
  const problems: CompileProblem[] = [];
  const undeclared = (name: string, expr: Expr) =>
    problems.push({ message: `undeclared reference to '${name}'`, offset: offsetOf(expr) });
  let nextId = 1_000_000n;
  const visit = (expr: Expr | undefined, scope: ReadonlySet<string>): void => {
    if (!expr) return;
    const kind = expr.exprKind;
    switch (kind.case) {
      case "identExpr":
        if (
          !scope.has(kind.value.name) &&
          !variables.has(kind.value.name) &&
          !typeIdentifiers.has(kind.value.name)
        ) {
          undeclared(kind.value.name, expr);
        }
        return;
      case "selectExpr":
        visit(kind.value.operand, scope);
        return;
      case "callExpr": {
        const call = kind.value;
        const qualifier = qualifiedName(call.target);
        if (qualifier !== undefined && !scope.has(qualifier.split(".")[0]!)) {
          if (env.funcs.find(`${qualifier}.${call.function}`)) {
            for (const arg of call.args) visit(arg, scope);
            return;
          }
        }
        if (!plannerOperators.has(call.function) && !env.funcs.find(call.function)) {
          undeclared(call.function, expr);
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
                function: iterationCostFunction,
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
    const unique = [...new Set(problems.map((p) => p.message))];
    return failure("check", problems, unique.join("; "));
  }
  try {
    return { ok: true, evaluate: plan(env, parsed) };
  } catch (error) {
    const message = (error as Error).message;
    return failure("plan", [{ message, offset: undefined }], message);
  }
}

/**
 * Compile problems in cel-go's display form, one per problem, separated by newlines:
 *
 *     ERROR: <input>:1:5: undeclared reference to 'foo'
 *      | 1 + foo
 *      | ....^
 */
export function formatProblems(expression: string, problems: readonly CompileProblem[]): string {
  const lines = expression.split("\n");
  return problems
    .map((problem) => {
      if (problem.offset === undefined) return `ERROR: <input>: ${problem.message}`;
      const before = expression.slice(0, problem.offset);
      const line = before.split("\n").length;
      const column = Array.from(before.slice(before.lastIndexOf("\n") + 1)).length;
      const snippet = (lines[line - 1] ?? "").replaceAll("\t", " ");
      return (
        `ERROR: <input>:${line}:${column + 1}: ${problem.message}` +
        `\n | ${snippet}\n | ${".".repeat(column)}^`
      );
    })
    .join("\n");
}
