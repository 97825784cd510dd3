import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ManifestWorkExecutor } from "../../api/types/work.ts";
import {
  executorAccessReviews,
  executorCheck,
  executorResourceAttributes,
  goDuration,
  needsEscalationCheck,
  notAllowedMessage,
  type ExecutorCheck,
  type ExecutorTarget,
} from "./executor.ts";

const sa = { namespace: "ns1", name: "deployer" };
const deployment: ExecutorTarget = {
  group: "apps",
  version: "v1",
  resource: "deployments",
  namespace: "default",
  name: "web",
};

describe("executorCheck", () => {
  const cases: [string, ManifestWorkExecutor | undefined, ExecutorCheck][] = [
    ["no executor checks nothing", undefined, { check: false }],
    [
      "a ServiceAccount",
      { subject: { type: "ServiceAccount", serviceAccount: sa } },
      { check: true, serviceAccount: sa },
    ],
    [
      "no service account",
      { subject: { type: "ServiceAccount" } },
      { check: false, error: "the executor service account is nil" },
    ],
    ["no subject", {}, { check: false, error: "only support ServiceAccount type for the executor" }],
    [
      "another subject type",
      { subject: { type: "User" as "ServiceAccount", serviceAccount: sa } },
      { check: false, error: "only support ServiceAccount type for the executor" },
    ],
  ];
  for (const [name, executor, expected] of cases) {
    it(name, () => assert.deepEqual(executorCheck(executor), expected));
  }
});

describe("executorResourceAttributes", () => {
  const cases: [string, ExecutorTarget, boolean, string[]][] = [
    ["an owned resource also needs delete", deployment, true, ["create", "update", "patch", "get", "delete"]],
    ["an orphaned resource does not", deployment, false, ["create", "update", "patch", "get"]],
  ];
  for (const [name, target, owned, verbs] of cases) {
    it(name, () => {
      assert.deepEqual(
        executorResourceAttributes(target, owned),
        verbs.map((verb) => ({
          namespace: "default",
          verb,
          group: "apps",
          version: "v1",
          resource: "deployments",
          name: "web",
        })),
      );
    });
  }

  it("fills absent group and namespace with empty strings", () => {
    const [first] = executorResourceAttributes(
      { version: "v1", resource: "namespaces", name: "team" },
      false,
    );
    assert.deepEqual(first, {
      namespace: "",
      verb: "create",
      group: "",
      version: "v1",
      resource: "namespaces",
      name: "team",
    });
  });
});

describe("executorAccessReviews", () => {
  it("asks as the ServiceAccount user with its groups, one review per verb", () => {
    const reviews = executorAccessReviews(sa, deployment, false);
    assert.equal(reviews.length, 4);
    assert.deepEqual(reviews[3], {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        resourceAttributes: {
          namespace: "default",
          verb: "get",
          group: "apps",
          version: "v1",
          resource: "deployments",
          name: "web",
        },
        user: "system:serviceaccount:ns1:deployer",
        groups: ["system:serviceaccounts", "system:authenticated", "system:serviceaccounts:ns1"],
      },
    });
  });
});

describe("needsEscalationCheck", () => {
  const cases: [string, string, boolean][] = [
    ["rbac.authorization.k8s.io", "roles", true],
    ["rbac.authorization.k8s.io", "rolebindings", true],
    ["rbac.authorization.k8s.io", "clusterroles", true],
    ["rbac.authorization.k8s.io", "clusterrolebindings", true],
    ["rbac.authorization.k8s.io", "roles/status", false],
    ["example.com", "roles", false],
    ["", "serviceaccounts", false],
  ];
  for (const [group, resource, expected] of cases) {
    it(`${group}/${resource}`, () => assert.equal(needsEscalationCheck({ group, resource }), expected));
  }
});

describe("goDuration", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [1, "1s"],
    [45, "45s"],
    [60, "1m0s"],
    [90, "1m30s"],
    [3600, "1h0m0s"],
    [3723, "1h2m3s"],
    [90000, "25h0m0s"],
    [-61, "-1m1s"],
  ];
  for (const [seconds, expected] of cases) {
    it(`${seconds}s`, () => assert.equal(goDuration(seconds), expected));
  }
});

describe("notAllowedMessage", () => {
  const cases: [string, Parameters<typeof notAllowedMessage>, string][] = [
    [
      "a denial",
      [deployment],
      "not allowed to apply the resource apps deployments, default web, will try again in 1m0s",
    ],
    [
      "a cluster-scoped core resource leaves group and namespace empty",
      [{ resource: "namespaces", name: "team" }],
      "not allowed to apply the resource  namespaces,  team, will try again in 1m0s",
    ],
    [
      "an escalation",
      [{ group: "rbac.authorization.k8s.io", resource: "clusterroles", name: "admin" }, { escalation: true }],
      "not allowed to apply the resource rbac.authorization.k8s.io clusterroles,  admin, error: permission escalation, will try again in 1m0s",
    ],
    [
      "another delay",
      [deployment, { requeueSeconds: 30 }],
      "not allowed to apply the resource apps deployments, default web, will try again in 30s",
    ],
    [
      "no delay",
      [deployment, { requeueSeconds: 0 }],
      "not allowed to apply the resource apps deployments, default web",
    ],
  ];
  for (const [name, args, expected] of cases) {
    it(name, () => assert.equal(notAllowedMessage(...args), expected));
  }
});
