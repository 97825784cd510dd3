// The PolicySet status controller: a set's placement, aggregate compliance and status message
// come from its member root policies' statuses and the bindings that place the set. A change to
// a member's status, to the set, or to a binding naming it re-evaluates just that set.
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { Resources } from "../../api/constants.ts";
import type { PlacementDecision } from "../../api/types/placement.ts";
import type { PlacementBinding, Policy, PolicySet } from "../../api/types/policy.ts";
import type { Clock } from "../../runtime/clock.ts";
import { Controller } from "../../runtime/controller.ts";
import { ControllerCache } from "../../runtime/controller-cache.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { InformerFactory } from "../../runtime/informer-factory.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import { objectKey, type KubeObject } from "../../runtime/kube/types.ts";
import { patchStatus } from "../../runtime/status.ts";
import { HubInformers } from "../informers.ts";
import { bindingSubjectKeys, decidedClusters, isReplicatedPolicy, policySetMemberKeys } from "./keys.ts";
import { policySetStatus } from "./policyset-status.ts";

export const policySetFieldManager = "bosun-policyset";

const byMember = "member";

export interface PolicySetControllerOptions {
  client: KubeApi;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  workers?: number;
  informers?: InformerFactory;
  cacheSyncTimeoutMs?: number;
}

export class PolicySetController {
  readonly #client: KubeApi;
  readonly #cache: ControllerCache;
  readonly #controller: Controller;
  readonly policies: Informer<Policy>;
  readonly policySets: Informer<PolicySet>;
  readonly bindings: Informer<PlacementBinding>;
  readonly placements: Informer<KubeObject>;
  readonly decisions: Informer<PlacementDecision>;

  constructor(options: PolicySetControllerOptions) {
    const logger = options.logger.child({ component: "policyset" });
    this.#client = options.client;
    this.#cache = new ControllerCache({ ...options, logger });
    const informers = this.#cache.informers;
    this.policies = informers.informer(Resources.Policy);
    this.policySets = informers.informer(Resources.PolicySet);
    this.bindings = informers.informer(Resources.PlacementBinding);
    this.placements = informers.informer(Resources.Placement);
    this.decisions = informers.informer(
      HubInformers.placementDecisions.resource,
      HubInformers.placementDecisions.scope,
    );
    this.policySets.addIndex(byMember, policySetMemberKeys);
    this.#controller = new Controller({
      name: "policyset",
      reconcile: (key) => this.reconcile(key),
      registry: options.registry,
      logger: options.logger,
      clock: options.clock,
      workers: options.workers ?? 1,
    });
    const enqueue = (key: string) => this.#controller.enqueue(key);
    const setsOf = (policy: Policy) => {
      for (const set of this.policySets.byIndex(byMember, objectKey(policy))) enqueue(objectKey(set));
    };
    this.policies.addHandlers({
      onAdd: (policy) => {
        if (!isReplicatedPolicy(policy)) setsOf(policy);
      },
      onUpdate: (previous, current) => {
        if (isReplicatedPolicy(current)) return;
        if (
          !isDeepStrictEqual(previous.status, current.status) ||
          previous.spec?.disabled !== current.spec?.disabled
        )
          setsOf(current);
      },
      onDelete: (policy) => {
        if (!isReplicatedPolicy(policy)) setsOf(policy);
      },
    });
    this.policySets.addHandlers({
      onAdd: (set) => enqueue(objectKey(set)),
      onUpdate: (previous, current) => {
        if (!isDeepStrictEqual(previous.spec, current.spec)) enqueue(objectKey(current));
      },
    });
    const forBinding = (binding: PlacementBinding) => {
      for (const subject of bindingSubjectKeys(binding))
        if (subject.startsWith("PolicySet:")) enqueue(subject.slice("PolicySet:".length));
    };
    this.bindings.addHandlers({
      onAdd: forBinding,
      onUpdate: (previous, current) => {
        forBinding(previous);
        forBinding(current);
      },
      onDelete: forBinding,
    });
  }

  async start(signal?: AbortSignal): Promise<void> {
    await this.#cache.sync(signal);
    this.#controller.start();
    for (const key of this.policySets.keys()) this.#controller.enqueue(key);
  }

  async stop(): Promise<void> {
    await this.#controller.stop();
    await this.#cache.release();
  }

  whenIdle(): Promise<void> {
    return this.#controller.whenIdle();
  }

  get retrying(): number {
    return this.#controller.retrying;
  }

  async reconcile(key: string): Promise<void> {
    const set = this.policySets.get(key);
    if (!set || set.metadata.deletionTimestamp) return;
    const namespace = set.metadata.namespace ?? "";
    const members = (set.spec?.policies ?? []).map((name) => ({
      name,
      policy: this.policies.get(`${namespace}/${name}`),
    }));
    const bindings = this.bindings.byNamespace(namespace).map((binding) => ({
      binding,
      clusters: decidedClusters(binding, this.placements, this.decisions),
    }));
    const status = policySetStatus(set, members, bindings);
    await patchStatus(this.#client, set, status, { fieldManager: policySetFieldManager });
  }
}
