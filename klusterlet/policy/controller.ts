// The policy agent: evaluates the ConfigurationPolicies of this cluster's namespace (namespace
// = cluster name) on the managed cluster with the policy engine, enforces them, and writes
// their status as config-policy-controller does. Level-based: each reconcile reads the policy
// from its cache, decides from evaluationInterval whether an evaluation is due, evaluates
// against watch caches of what the policy reads (writing for real in enforce mode), and writes
// the status when it changed, with an event per new compliance message. A change to anything
// a watch-mode policy read, or to the namespaces its namespaceSelector selects, evaluates it
// again. pruneObjectBehavior DeleteIfCreated/DeleteAll holds a finalizer until the related
// objects are pruned.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { ConfigurationPolicyReasons, Finalizers, PolicyEvents, Resources } from "../../api/constants.ts";
import type { ConfigurationPolicy } from "../../api/types/policy.ts";
import { evaluateConfigurationPolicy, type PolicyEvaluation } from "../../policies/evaluate.ts";
import type { JsonObject } from "../../policies/gofmt.ts";
import { evaluateLive } from "../../policies/live-reader.ts";
import {
  NamespaceSelectionError,
  namespaceSelectorIsEmpty,
  selectNamespaces,
} from "../../policies/namespaces.ts";
import { backoffMs } from "../../runtime/backoff.ts";
import type { Clock } from "../../runtime/clock.ts";
import { Controller, type ReconcileContext } from "../../runtime/controller.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { EventRecorder } from "../../runtime/events.ts";
import { InformerFactory } from "../../runtime/informer-factory.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { KubeClient, ObjectRef } from "../../runtime/kube/client.ts";
import { patchStatus } from "../../runtime/status.ts";
import { formatTime } from "../../runtime/time.ts";
import { delay } from "../../runtime/wait.ts";
import { namespaceListTouch, PolicyCaches } from "./caches.ts";
import { evaluationDue, nextEvaluation } from "./interval.ts";
import { PolicyMetrics } from "./metrics.ts";
import { eventReason, eventType, nextStatus } from "./status.ts";
import { needsEvaluation, olderThan, wantsFinalizer } from "./triggers.ts";

export interface PolicyAgentOptions {
  /** The managed cluster; the policies' objects are read and written with it. */
  managedClient: KubeClient;
  /** The cluster's name: the namespace of its ConfigurationPolicies. */
  clusterName: string;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** Shared informers of the managed cluster; a private factory when absent. */
  informers?: InformerFactory;
  /** Policies evaluated at once. Default 4. */
  workers?: number;
  /** How long an evaluation waits for a cache to fill. Default 30 s. */
  cacheSyncTimeoutMs?: number;
  /** How long a recreate waits for the old object to go. Default 10 s. */
  recreateTimeoutMs?: number;
  random?: () => number;
}

function refOf(policy: ConfigurationPolicy): ObjectRef {
  return {
    apiVersion: Resources.ConfigurationPolicy.apiVersion,
    kind: Resources.ConfigurationPolicy.kind,
    name: policy.metadata.name ?? "",
    namespace: policy.metadata.namespace,
  };
}

/** The evaluation met a kind the cluster does not serve (yet): look again soon. */
function missingKind(evaluation: PolicyEvaluation): boolean {
  return evaluation.compliancyDetails.some((detail) =>
    detail.conditions?.some((condition) => condition.reason === ConfigurationPolicyReasons.k8sError),
  );
}

export class PolicyAgent {
  readonly #options: PolicyAgentOptions;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #informers: InformerFactory;
  readonly #ownsInformers: boolean;
  readonly #policies: Informer<ConfigurationPolicy>;
  readonly #caches: PolicyCaches;
  readonly #controller: Controller;
  readonly #metrics: PolicyMetrics;
  readonly #events: EventRecorder;
  /** Cache key → keys of the watch-mode policies that read it. */
  readonly #readers = new Map<string, Set<string>>();
  /** Policy key → the cache keys it is registered under. */
  readonly #reads = new Map<string, Set<string>>();
  /** Policy key → the namespaces its namespaceSelector selected when last evaluated. */
  readonly #selected = new Map<string, string>();
  /** Policies whose selected namespaces changed since their last evaluation. */
  readonly #namespacesChanged = new Set<string>();
  /** Policy key → the resourceVersion of our last write, to tell a stale cache. */
  readonly #written = new Map<string, string>();
  /** Consecutive failed cleanups, for the backoff of a policy being deleted. */
  readonly #cleanupFailures = new Map<string, number>();
  readonly #stop = new AbortController();
  #namespaceLoop: Promise<void> | undefined;

  constructor(options: PolicyAgentOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "policy-agent" });
    this.#random = options.random ?? Math.random;
    this.#ownsInformers = options.informers === undefined;
    this.#informers =
      options.informers ?? new InformerFactory({ client: options.managedClient, logger: this.#logger });
    this.#policies = this.#informers.informer<ConfigurationPolicy>(Resources.ConfigurationPolicy, {
      namespace: options.clusterName,
    });
    this.#metrics = new PolicyMetrics(options.registry);
    this.#events = new EventRecorder({
      client: options.managedClient,
      component: PolicyEvents.configurationPolicyController,
      clock: options.clock,
      logger: this.#logger,
    });
    this.#controller = new Controller({
      name: "policy-agent",
      registry: options.registry,
      logger: this.#logger,
      clock: options.clock,
      random: this.#random,
      workers: options.workers ?? 4,
      backoff: { baseDelayMs: 500, maxDelayMs: 60_000 },
      reconcile: (key, signal, context) => this.#reconcile(key, signal, context),
    });
    this.#caches = new PolicyCaches({
      client: options.managedClient,
      informers: this.#informers,
      clock: options.clock,
      logger: this.#logger,
      syncTimeoutMs: options.cacheSyncTimeoutMs,
      recreateTimeoutMs: options.recreateTimeoutMs,
      onChange: (cacheKey) => {
        for (const key of this.#readers.get(cacheKey) ?? []) this.#controller.enqueue(key);
      },
      onNamespaces: () => this.#namespacesMoved(),
    });
    const key = (policy: ConfigurationPolicy) => `${policy.metadata.namespace}/${policy.metadata.name}`;
    this.#policies.addHandlers({
      onAdd: (policy) => this.#controller.enqueue(key(policy)),
      onUpdate: (previous, current) => {
        if (needsEvaluation(previous, current)) this.#controller.enqueue(key(current));
      },
      onDelete: (policy) => this.#controller.enqueue(key(policy)),
    });
  }

  /** The controller, for tests that wait for reconcile counts. */
  get controller(): Controller {
    return this.#controller;
  }

  /** The keys of the policies re-evaluated when something in a cache changes (for tests and diagnostics). */
  readersOf(cacheKey: string): string[] {
    return [...(this.#readers.get(cacheKey) ?? [])];
  }

  start(): void {
    this.#informers.start();
    this.#controller.start();
    this.#namespaceLoop = this.#ensureNamespace(this.#stop.signal);
  }

  async stop(): Promise<void> {
    this.#stop.abort(new Error("policy agent stopped"));
    await this.#controller.stop();
    await this.#namespaceLoop;
    if (this.#ownsInformers) await this.#informers.stop();
  }

  whenIdle(): Promise<void> {
    return this.#controller.whenIdle();
  }

  /** Makes sure the cluster namespace exists, where the hub's work agent delivers the policies. */
  async #ensureNamespace(signal: AbortSignal): Promise<void> {
    const { managedClient, clusterName, clock } = this.#options;
    for (let failures = 0; !signal.aborted; failures++) {
      try {
        await managedClient.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: clusterName } });
        this.#logger.info({ namespace: clusterName }, "created the cluster namespace");
        return;
      } catch (error) {
        if (error instanceof KubeApiError && error.alreadyExists) return;
        this.#logger.warn(
          { err: error, namespace: clusterName },
          "could not make sure the cluster namespace exists",
        );
      }
      try {
        await delay(clock, backoffMs(failures + 1, 1000, 60_000, this.#random), signal);
      } catch {
        return;
      }
    }
  }

  /** Registers what a watch-mode policy reads; `keys` replaces what it read before. */
  #track(policyKey: string, keys: Iterable<string>): void {
    const next = new Set(keys);
    for (const old of this.#reads.get(policyKey) ?? []) {
      if (next.has(old)) continue;
      const readers = this.#readers.get(old);
      readers?.delete(policyKey);
      if (readers?.size === 0) this.#readers.delete(old);
    }
    for (const key of next) {
      let readers = this.#readers.get(key);
      if (!readers) this.#readers.set(key, (readers = new Set()));
      readers.add(policyKey);
    }
    if (next.size > 0) this.#reads.set(policyKey, next);
    else this.#reads.delete(policyKey);
  }

  /** Re-evaluates the policies whose namespaceSelector now selects other namespaces. */
  #namespacesMoved(): void {
    const namespaces = this.#caches.namespaces();
    if (!namespaces) return;
    for (const [key, before] of this.#selected) {
      const policy = this.#policies.get(key);
      if (!policy) continue;
      if (selection(policy, namespaces) === before) continue;
      this.#namespacesChanged.add(key);
      this.#controller.enqueue(key);
    }
  }

  #forget(key: string): void {
    const [namespace = "", name = ""] = key.split("/");
    this.#metrics.forget(namespace, name);
    this.#track(key, []);
    this.#selected.delete(key);
    this.#namespacesChanged.delete(key);
    this.#written.delete(key);
    this.#cleanupFailures.delete(key);
  }

  async #reconcile(
    key: string,
    signal: AbortSignal,
    context: ReconcileContext,
  ): Promise<{ requeueAfterMs?: number }> {
    if (!this.#policies.hasSynced) return { requeueAfterMs: 500 };
    let policy = this.#policies.get(key);
    if (!policy) {
      this.#forget(key);
      return {};
    }
    // Our last write has not come back through the cache yet: evaluating now would start
    // from a stale status.
    if (olderThan(policy.metadata.resourceVersion, this.#written.get(key))) return { requeueAfterMs: 250 };
    const client = this.#options.managedClient;
    const finalizers = policy.metadata.finalizers ?? [];
    const hasFinalizer = finalizers.includes(Finalizers.deleteRelatedObjects);

    if (policy.metadata.deletionTimestamp) {
      if (!hasFinalizer) return {};
      return this.#cleanUp(key, policy, signal, context.logger);
    }
    if (wantsFinalizer(policy) !== hasFinalizer) {
      policy = await client.patch<ConfigurationPolicy>(refOf(policy), "merge", {
        metadata: {
          resourceVersion: policy.metadata.resourceVersion,
          finalizers: hasFinalizer
            ? finalizers.filter((finalizer) => finalizer !== Finalizers.deleteRelatedObjects)
            : [...finalizers, Finalizers.deleteRelatedObjects],
        },
      });
      this.#written.set(key, policy.metadata.resourceVersion ?? "");
    }

    const nowMs = this.#options.clock.now();
    const due = evaluationDue({
      generation: policy.metadata.generation,
      deleting: false,
      interval: policy.spec?.evaluationInterval,
      status: policy.status,
      namespacesChanged: this.#namespacesChanged.has(key),
      nowMs,
    });
    if (!due.evaluate) return due.requeueAfterMs === undefined ? {} : { requeueAfterMs: due.requeueAfterMs };
    this.#namespacesChanged.delete(key);

    // Reads are registered as they happen, so that a change racing the evaluation is not missed.
    const touched = new Set<string>();
    const session = this.#caches.session(signal, (cacheKey) => {
      touched.add(cacheKey);
      this.#track(key, [...(this.#reads.get(key) ?? []), cacheKey]);
    });
    const evaluation = await evaluateLive(session, () =>
      evaluateConfigurationPolicy(policy as unknown as JsonObject, session, { now: formatTime(nowMs) }),
    );
    const seconds = (this.#options.clock.now() - nowMs) / 1000;
    this.#metrics.evaluated(policy.metadata.name ?? "", seconds);
    this.#metrics.compliance(
      policy.metadata.namespace ?? "",
      policy.metadata.name ?? "",
      policy.spec?.severity ?? "",
      evaluation.compliant,
    );
    for (const change of evaluation.changes) {
      const { action, kind, namespace, name, error } = change;
      if (error)
        context.logger.info({ action, kind, namespace, name, error }, "the API server refused a write");
      else context.logger.info({ action, kind, namespace, name }, "enforced");
    }

    const schedule = nextEvaluation(policy.spec?.evaluationInterval, evaluation.compliant, {
      retrySoon: missingKind(evaluation),
      random: this.#random,
    });
    await this.#writeStatus(key, policy, evaluation, nowMs, !schedule.watch);

    // Interval policies are not watched; a namespaceSelector is followed in every mode.
    this.#track(
      key,
      schedule.watch ? [...touched].filter((cacheKey) => cacheKey !== namespaceListTouch) : [],
    );
    if (touched.has(namespaceListTouch)) {
      const namespaces = this.#caches.namespaces();
      if (namespaces) this.#selected.set(key, selection(policy, namespaces));
    } else {
      this.#selected.delete(key);
    }
    return schedule.requeueAfterMs === undefined
      ? {}
      : { requeueAfterMs: Math.max(1, schedule.requeueAfterMs) };
  }

  /** Writes the status when it changed, and sends an event for each new compliance message. */
  async #writeStatus(
    key: string,
    policy: ConfigurationPolicy,
    evaluation: PolicyEvaluation,
    nowMs: number,
    refreshLastEvaluated: boolean,
  ): Promise<void> {
    const client = this.#options.managedClient;
    let current = policy;
    let next = nextStatus({
      previous: current.status,
      evaluation,
      generation: policy.metadata.generation,
      nowMs,
      refreshLastEvaluated,
    });
    // Someone else's write (the work agent applying the spec) makes ours conflict: what this
    // evaluation found still holds, so it is written onto the fresh object, not lost.
    for (let attempt = 1; next.changed; attempt++) {
      try {
        const written = await patchStatus(client, current, next.status);
        if (written?.metadata.resourceVersion) this.#written.set(key, written.metadata.resourceVersion);
        break;
      } catch (error) {
        if (!(error instanceof KubeApiError && error.conflict) || attempt >= 3) throw error;
        current = await client.get<ConfigurationPolicy>(refOf(policy));
        next = nextStatus({
          previous: current.status,
          evaluation,
          generation: policy.metadata.generation,
          nowMs,
          refreshLastEvaluated,
        });
      }
    }
    const reason = eventReason(policy.metadata.namespace, policy.metadata.name ?? "");
    for (const sent of next.sent) {
      await this.#events.record(policy, eventType(sent.message ?? ""), reason, sent.message ?? "");
    }
  }

  /**
   * A deleted policy holding the prune finalizer: prunes its related objects (enforce only),
   * then lets it go; while some object cannot be deleted it stays Terminating and is retried.
   */
  async #cleanUp(
    key: string,
    policy: ConfigurationPolicy,
    signal: AbortSignal,
    logger: Logger,
  ): Promise<{ requeueAfterMs?: number }> {
    const client = this.#options.managedClient;
    const nowMs = this.#options.clock.now();
    const session = this.#caches.session(signal);
    const evaluation = await evaluateLive(session, () =>
      evaluateConfigurationPolicy(policy as unknown as JsonObject, session, { now: formatTime(nowMs) }),
    );
    if (evaluation.pruneFailures) {
      await this.#writeStatus(key, policy, evaluation, nowMs, false);
      const failures = (this.#cleanupFailures.get(key) ?? 0) + 1;
      this.#cleanupFailures.set(key, failures);
      logger.info({ message: evaluation.message }, "related objects are not deleted yet");
      return { requeueAfterMs: backoffMs(failures, 1000, 60_000, this.#random) };
    }
    try {
      await client.patch(refOf(policy), "merge", {
        metadata: {
          resourceVersion: policy.metadata.resourceVersion,
          finalizers: (policy.metadata.finalizers ?? []).filter(
            (finalizer) => finalizer !== Finalizers.deleteRelatedObjects,
          ),
        },
      });
    } catch (error) {
      if (!(error instanceof KubeApiError && error.notFound)) throw error;
    }
    logger.info({ pruned: evaluation.changes.length }, "related objects pruned; released the policy");
    return {};
  }
}

/** The namespaces a policy's namespaceSelector selects, as one comparable string. */
function selection(policy: ConfigurationPolicy, namespaces: Parameters<typeof selectNamespaces>[1]): string {
  const selector = policy.spec?.namespaceSelector;
  if (namespaceSelectorIsEmpty(selector)) return "";
  try {
    return selectNamespaces(selector, namespaces).join(",");
  } catch (error) {
    if (error instanceof NamespaceSelectionError) return `error: ${error.message}`;
    throw error;
  }
}
