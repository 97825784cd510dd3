// The Predicate filter: a cluster is feasible if any predicate matches it; within a predicate
// the label selector, the claim selector and every CEL expression must all match.
import { Placement as PlacementConstants } from "../../../api/constants.ts";
import type { ManagedCluster } from "../../../api/types/cluster.ts";
import type { CelProgram } from "../cel/environment.ts";
import {
  compileClaimSelector,
  compileLabelSelector,
  isEmpty,
  mapLookup,
  matches,
  recordLookup,
  type Selector,
} from "./selectors.ts";
import type { FilterOutcome, Misconfiguration, PluginContext, Rejection } from "./types.ts";

const plugin = PlacementConstants.filters.predicate;

export interface CompiledPredicate {
  labels: Selector;
  claims: Selector;
  cel: CelProgram[];
}

export type CompiledPredicates =
  { ok: true; predicates: CompiledPredicate[] } | { ok: false; misconfigured: Misconfiguration };

export function compilePredicates(ctx: Pick<PluginContext, "placement" | "cel">): CompiledPredicates {
  const predicates: CompiledPredicate[] = [];
  for (const [i, predicate] of (ctx.placement.spec.predicates ?? []).entries()) {
    const field = `spec.predicates[${i}].requiredClusterSelector`;
    const selector = predicate.requiredClusterSelector;
    const labels = compileLabelSelector(selector?.labelSelector, `${field}.labelSelector`);
    if (!labels.ok) return { ok: false, misconfigured: { plugin, message: labels.message } };
    const claims = compileClaimSelector(selector?.claimSelector, `${field}.claimSelector`);
    if (!claims.ok) return { ok: false, misconfigured: { plugin, message: claims.message } };
    const cel: CelProgram[] = [];
    for (const [j, expression] of (selector?.celSelector?.celExpressions ?? []).entries()) {
      const compiled = ctx.cel.compile(expression);
      if (!compiled.ok) {
        return {
          ok: false,
          misconfigured: {
            plugin,
            message: `${compiled.message} (${field}.celSelector.celExpressions[${j}])`,
          },
        };
      }
      cel.push(compiled.program);
    }
    predicates.push({ labels: labels.selector, claims: claims.selector, cel });
  }
  return { ok: true, predicates };
}

/** Which predicate a cluster matched, or why none did. */
export type PredicateMatch = { matched: true; index: number } | { matched: false; reason: string };

export function matchPredicates(
  ctx: PluginContext,
  predicates: readonly CompiledPredicate[],
  cluster: ManagedCluster,
): PredicateMatch {
  if (predicates.length === 0) return { matched: true, index: -1 };
  const misses: string[] = [];
  let budgetStarted = false;
  for (const [i, predicate] of predicates.entries()) {
    if (!matches(predicate.labels, recordLookup(cluster.metadata.labels))) {
      if (ctx.explain) misses.push(`predicates[${i}]: labelSelector does not match`);
      continue;
    }
    if (!isEmpty(predicate.claims) && !matches(predicate.claims, mapLookup(ctx.fleet.claims(cluster)))) {
      if (ctx.explain) misses.push(`predicates[${i}]: claimSelector does not match`);
      continue;
    }
    if (predicate.cel.length > 0) {
      // One budget per cluster across all of its expressions.
      if (!budgetStarted) ctx.cel.resetClusterBudget();
      budgetStarted = true;
      const result = ctx.cel.matchWithinBudget(predicate.cel, ctx.fleet.celView(cluster), (c, n) =>
        ctx.fleet.score(c, n),
      );
      if (!result.matched) {
        if (ctx.explain) misses.push(`predicates[${i}]: celExpressions[${result.index}] ${result.reason}`);
        continue;
      }
    }
    return { matched: true, index: i };
  }
  return { matched: false, reason: ctx.explain ? misses.join("; ") : "no predicate matched" };
}

export function predicateFilter(ctx: PluginContext, clusters: readonly ManagedCluster[]): FilterOutcome {
  // As in OCM, predicates are only compiled when there is a cluster to match: with no
  // candidate, a predicate that does not compile is not reported.
  if (clusters.length === 0) return { ok: true, result: { passed: [], rejected: new Map() } };
  const compiled = compilePredicates(ctx);
  if (!compiled.ok) return compiled;
  const passed: ManagedCluster[] = [];
  const rejected = new Map<string, Rejection>();
  const notes = new Map<string, string>();
  const noteOf = compiled.predicates.map((_, i) => `predicates[${i}] matched`);
  for (const cluster of clusters) {
    const result = matchPredicates(ctx, compiled.predicates, cluster);
    if (!result.matched) {
      // Rejections only matter to explain; skip the bookkeeping otherwise.
      if (ctx.explain) rejected.set(cluster.metadata.name ?? "", { plugin, reason: result.reason });
    } else {
      passed.push(cluster);
      if (result.index >= 0) notes.set(cluster.metadata.name ?? "", noteOf[result.index]!);
    }
  }
  return { ok: true, result: { passed, rejected, notes } };
}

/** A cluster's claims as the claim selectors read them. */
export function clusterClaims(cluster: ManagedCluster): Map<string, string> {
  const claims = new Map<string, string>();
  for (const claim of cluster.status?.clusterClaims ?? []) {
    if (claim.name !== undefined) claims.set(claim.name, claim.value ?? "");
  }
  return claims;
}

/**
 * Whether some predicate could select the cluster: its label and claim selectors match. CEL
 * is not evaluated (it may read scores and the rest of the fleet), so a predicate with CEL
 * whose selectors match counts as a possible match. A cluster that no predicate could select
 * before or after a change cannot change the placement's decisions: the controller uses this
 * to reschedule only the placements a cluster event can affect.
 */
export function mayMatchPredicates(
  predicates: readonly CompiledPredicate[],
  cluster: ManagedCluster,
): boolean {
  if (predicates.length === 0) return true;
  let claims: Map<string, string> | undefined;
  for (const predicate of predicates) {
    if (!matches(predicate.labels, recordLookup(cluster.metadata.labels))) continue;
    if (!isEmpty(predicate.claims)) {
      claims ??= clusterClaims(cluster);
      if (!matches(predicate.claims, mapLookup(claims))) continue;
    }
    return true;
  }
  return false;
}
