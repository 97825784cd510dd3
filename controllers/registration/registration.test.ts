import "reflect-metadata";
import { isPending } from "../../api/csr.ts";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { describe, test } from "node:test";
import * as x509 from "@peculiar/x509";
import { Csr, Labels, Taints } from "../../api/constants.ts";
import type { ManagedCluster, ManagedClusterSet } from "../../api/types/cluster.ts";
import { desiredTaints, judgeLease, leaseGraceMs } from "./availability.ts";
import {
  clusterSetCountIntervalMs,
  clusterSetEmptyCondition,
  clusterSetMembers,
  clusterSetWriteDelayMs,
} from "./clustersets.ts";
import {
  checkClusterCsr,
  isBootstrapRequester,
  isRenewalRequest,
  parseRequest,
  type CertificateSigningRequest,
} from "./csr.ts";
import { clusterRoleFor } from "./rbac.ts";
import { formatTime } from "../../runtime/time.ts";

async function csrPem(subject: string): Promise<string> {
  const keys = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const request = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: subject, keys, signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } },
    webcrypto,
  );
  return Buffer.from(request.toString("pem")).toString("base64");
}

function csr(
  request: string,
  overrides: Partial<CertificateSigningRequest["spec"]> = {},
  cluster = "c1",
): CertificateSigningRequest {
  return {
    apiVersion: "certificates.k8s.io/v1",
    kind: "CertificateSigningRequest",
    metadata: { name: `${cluster}-abcde`, labels: { [Labels.clusterName]: cluster } },
    spec: {
      request,
      signerName: Csr.signerName,
      usages: [...Csr.usages],
      username: "system:serviceaccount:open-cluster-management:agent-registration-bootstrap",
      groups: [
        "system:serviceaccounts",
        "system:serviceaccounts:open-cluster-management",
        "system:authenticated",
      ],
      ...overrides,
    },
  };
}

const goodSubject =
  "O=system:open-cluster-management:c1, O=system:open-cluster-management:managed-clusters, CN=system:open-cluster-management:c1:agent1";

describe("CSR checks", async () => {
  const good = await csrPem(goodSubject);
  const cases: {
    name: string;
    request: string;
    spec?: Partial<CertificateSigningRequest["spec"]>;
    labelCluster?: string;
    valid: boolean;
    reason?: RegExp;
  }[] = [
    { name: "a well-formed agent request", request: good, valid: true },
    {
      name: "the wrong signer",
      request: good,
      spec: { signerName: "kubernetes.io/kubelet-serving" },
      valid: false,
      reason: /spec\.signerName/,
    },
    {
      name: "extra usages",
      request: good,
      spec: { usages: [...Csr.usages, "server auth"] },
      valid: false,
      reason: /spec\.usages/,
    },
    {
      name: "missing usages",
      request: good,
      spec: { usages: ["client auth"] },
      valid: false,
      reason: /spec\.usages/,
    },
    {
      name: "a subject naming another cluster than the label",
      request: good,
      labelCluster: "c2",
      valid: false,
      reason: /organizations/,
    },
    {
      name: "a CN for another cluster with the right organization",
      request: await csrPem(
        "O=system:open-cluster-management:c1, CN=system:open-cluster-management:c2:agent1",
      ),
      valid: false,
      reason: /names cluster "c2"/,
    },
    {
      name: "an extra organization (e.g. system:masters)",
      request: await csrPem(
        "O=system:open-cluster-management:c1, O=system:masters, CN=system:open-cluster-management:c1:agent1",
      ),
      valid: false,
      reason: /organizations/,
    },
    {
      name: "a CN without an agent part",
      request: await csrPem("O=system:open-cluster-management:c1, CN=system:open-cluster-management:c1"),
      valid: false,
      reason: /<cluster>:<agent>/,
    },
    {
      name: "a CN without the prefix",
      request: await csrPem("O=system:open-cluster-management:c1, CN=admin"),
      valid: false,
      reason: /must start with/,
    },
    {
      name: "a request that is not PEM",
      request: Buffer.from("garbage").toString("base64"),
      valid: false,
      reason: /PEM block/,
    },
  ];
  for (const { name, request, spec, labelCluster, valid, reason } of cases) {
    test(name, () => {
      const object = csr(request, spec, labelCluster);
      const verdict = checkClusterCsr(object, parseRequest(request));
      assert.equal(verdict.valid, valid);
      if (verdict.valid) assert.deepEqual(verdict, { valid: true, cluster: "c1", agent: "agent1" });
      else assert.match(verdict.reason, reason!);
    });
  }

  test("a CSR without the cluster label is never valid", () => {
    const object = csr(good);
    object.metadata.labels = {};
    const verdict = checkClusterCsr(object, parseRequest(good));
    assert.equal(verdict.valid, false);
  });

  test("a renewal is requested by the certificate's own identity", () => {
    const subject = parseRequest(good);
    assert.ok(!(subject instanceof Error));
    assert.equal(
      isRenewalRequest(csr(good, { username: "system:open-cluster-management:c1:agent1" }), subject),
      true,
    );
    assert.equal(
      isRenewalRequest(csr(good, { username: "system:open-cluster-management:c2:agent1" }), subject),
      false,
    );
    assert.equal(isRenewalRequest(csr(good), subject), false);
  });

  test("bootstrap requesters are the bootstrap service account or bootstrap tokens, with their groups", () => {
    assert.equal(isBootstrapRequester(csr(good)), true);
    assert.equal(
      isBootstrapRequester(csr(good, { username: "system:bootstrap:ocmhub", groups: [Csr.bootstrapGroup] })),
      true,
    );
    assert.equal(
      isBootstrapRequester(
        csr(good, { username: "system:bootstrap:ocmhub", groups: ["system:authenticated"] }),
      ),
      false,
    );
    assert.equal(isBootstrapRequester(csr(good, { username: "alice", groups: [Csr.bootstrapGroup] })), false);
  });

  test("approved, denied and failed CSRs are no longer pending", () => {
    for (const type of ["Approved", "Denied", "Failed"]) {
      const object = csr(good);
      object.status = { conditions: [{ type, status: "True" }] };
      assert.equal(isPending(object), false, type);
    }
    assert.equal(isPending(csr(good)), true);
  });
});

function cluster(overrides: Partial<ManagedCluster> = {}): ManagedCluster {
  return {
    apiVersion: "cluster.open-cluster-management.io/v1",
    kind: "ManagedCluster",
    metadata: { name: "c1", labels: {} },
    spec: { hubAcceptsClient: true, leaseDurationSeconds: 60 },
    ...overrides,
  };
}

describe("lease availability", () => {
  const now = Date.parse("2026-06-01T12:00:00Z");
  const cases = [
    {
      name: "renewed 5 minutes ago with 60 s leases: expired",
      renewedAgoMs: 300_000,
      duration: 60,
      expired: true,
    },
    {
      name: "renewed 4 minutes ago: look again in 60 s",
      renewedAgoMs: 240_000,
      duration: 60,
      expired: false,
      recheck: 60_000,
    },
    {
      name: "renewed 30 s ago: look again in 270 s",
      renewedAgoMs: 30_000,
      duration: 60,
      expired: false,
      recheck: 270_000,
    },
    {
      name: "leaseDurationSeconds 0 means 60",
      renewedAgoMs: 299_000,
      duration: 0,
      expired: false,
      recheck: 1_000,
    },
    { name: "short leases expire sooner", renewedAgoMs: 10_000, duration: 2, expired: true },
  ];
  for (const { name, renewedAgoMs, duration, expired, recheck } of cases) {
    test(name, () => {
      const verdict = judgeLease(
        cluster({ spec: { leaseDurationSeconds: duration } }),
        { renewTimeMs: now - renewedAgoMs },
        now,
      );
      assert.equal(verdict.expired, expired);
      if (!verdict.expired) assert.equal(verdict.recheckInMs, recheck);
    });
  }
  test("the grace period is 5 lease durations", () => {
    assert.equal(leaseGraceMs(cluster({ spec: { leaseDurationSeconds: 7 } })), 35_000);
  });
});

describe("availability taints", () => {
  const now = Date.parse("2026-06-01T12:00:00Z");
  const available = (status: "True" | "False" | "Unknown") => ({
    conditions: [
      {
        type: "ManagedClusterConditionAvailable",
        status,
        reason: "r",
        message: "",
        lastTransitionTime: formatTime(now),
      },
    ],
  });
  const userTaint = {
    key: "dedicated",
    value: "gpu",
    effect: "NoSelect" as const,
    timeAdded: formatTime(now - 1000),
  };
  test("no Available condition: unreachable", () => {
    assert.deepEqual(desiredTaints(cluster(), now), [
      { key: Taints.unreachable, effect: "NoSelect", timeAdded: formatTime(now) },
    ]);
  });
  test("Unknown replaces unavailable with unreachable and keeps the user's taints", () => {
    const taints = desiredTaints(
      cluster({
        spec: { taints: [userTaint, { key: Taints.unavailable, effect: "NoSelect" }] },
        status: available("Unknown"),
      }),
      now,
    );
    assert.deepEqual(
      taints?.map((taint) => taint.key),
      ["dedicated", Taints.unreachable],
    );
  });
  test("False: unavailable", () => {
    assert.deepEqual(
      desiredTaints(cluster({ status: available("False") }), now)?.map((taint) => taint.key),
      [Taints.unavailable],
    );
  });
  test("True removes both built-in taints", () => {
    const taints = desiredTaints(
      cluster({
        spec: { taints: [{ key: Taints.unreachable, effect: "NoSelect" }, userTaint] },
        status: available("True"),
      }),
      now,
    );
    assert.deepEqual(taints, [userTaint]);
  });
  test("nothing to change: undefined, and an existing taint keeps its timeAdded", () => {
    const existing = {
      key: Taints.unreachable,
      effect: "NoSelect" as const,
      timeAdded: formatTime(now - 5000),
    };
    assert.equal(
      desiredTaints(cluster({ spec: { taints: [existing] }, status: available("Unknown") }), now),
      undefined,
    );
    assert.equal(
      desiredTaints(cluster({ spec: { taints: [userTaint] }, status: available("True") }), now),
      undefined,
    );
  });
});

describe("cluster sets", () => {
  const clusters = [
    cluster({ metadata: { name: "a", labels: { [Labels.clusterSet]: "default", region: "eu" } } }),
    cluster({ metadata: { name: "b", labels: { [Labels.clusterSet]: "prod", region: "us" } } }),
  ];
  const set = (name: string, spec: ManagedClusterSet["spec"]): ManagedClusterSet => ({
    apiVersion: "cluster.open-cluster-management.io/v1beta2",
    kind: "ManagedClusterSet",
    metadata: { name },
    spec,
  });
  const names = (result: ManagedCluster[] | Error) =>
    result instanceof Error ? result.message : result.map((c) => c.metadata.name);
  test("the exclusive label selects by set name (the default type)", () => {
    assert.deepEqual(names(clusterSetMembers(set("prod", {}), clusters)), ["b"]);
  });
  test("a label selector selects by labels; an empty one selects all", () => {
    assert.deepEqual(
      names(
        clusterSetMembers(
          set("eu", {
            clusterSelector: {
              selectorType: "LabelSelector",
              labelSelector: { matchLabels: { region: "eu" } },
            },
          }),
          clusters,
        ),
      ),
      ["a"],
    );
    assert.deepEqual(
      names(
        clusterSetMembers(
          set("global", { clusterSelector: { selectorType: "LabelSelector", labelSelector: {} } }),
          clusters,
        ),
      ),
      ["a", "b"],
    );
  });
  test("an unknown selector type or a bad selector is an error naming the field", () => {
    assert.match(
      names(
        clusterSetMembers(set("x", { clusterSelector: { selectorType: "Bogus" as never } }), clusters),
      ) as string,
      /spec\.clusterSelector\.selectorType/,
    );
    assert.match(
      names(
        clusterSetMembers(
          set("x", {
            clusterSelector: {
              selectorType: "LabelSelector",
              labelSelector: { matchExpressions: [{ key: "a", operator: "Near" as never }] },
            },
          }),
          clusters,
        ),
      ) as string,
      /spec\.clusterSelector\.labelSelector/,
    );
  });
});

describe("when a set's status is written", () => {
  const written = (members: number) => ({
    ...clusterSetEmptyCondition(members),
    lastTransitionTime: "2026-01-01T00:00:00Z",
  });
  const interval = clusterSetCountIntervalMs;
  const cases: {
    name: string;
    current: number | undefined;
    desired: number;
    lastWrittenMs: number | undefined;
    nowMs: number;
    delayMs: number;
  }[] = [
    {
      name: "a set never written: now",
      current: undefined,
      desired: 3,
      lastWrittenMs: undefined,
      nowMs: 0,
      delayMs: 0,
    },
    {
      name: "a new count, none written by this process yet: now",
      current: 3,
      desired: 4,
      lastWrittenMs: undefined,
      nowMs: 0,
      delayMs: 0,
    },
    {
      name: "a new count right after a write: waits out the interval",
      current: 3,
      desired: 4,
      lastWrittenMs: 1_000,
      nowMs: 1_200,
      delayMs: interval - 200,
    },
    {
      name: "a new count past the interval: now",
      current: 3,
      desired: 4,
      lastWrittenMs: 1_000,
      nowMs: 1_000 + interval,
      delayMs: 0,
    },
    {
      name: "turning empty right after a write: now",
      current: 3,
      desired: 0,
      lastWrittenMs: 1_000,
      nowMs: 1_001,
      delayMs: 0,
    },
    {
      name: "turning non-empty right after a write: now",
      current: 0,
      desired: 1,
      lastWrittenMs: 1_000,
      nowMs: 1_001,
      delayMs: 0,
    },
    {
      name: "nothing changed: now (the write is a no-op)",
      current: 3,
      desired: 3,
      lastWrittenMs: 1_000,
      nowMs: 1_001,
      delayMs: 0,
    },
  ];
  for (const { name, current, desired, lastWrittenMs, nowMs, delayMs } of cases)
    test(name, () => {
      assert.equal(
        clusterSetWriteDelayMs(
          current === undefined ? undefined : written(current),
          clusterSetEmptyCondition(desired),
          lastWrittenMs,
          nowMs,
        ),
        delayMs,
      );
    });
});

describe("per-cluster RBAC", () => {
  test("an unaccepted cluster may only read its own ManagedCluster", () => {
    const role = clusterRoleFor("c1", false) as unknown as {
      rules: { verbs: string[]; resourceNames?: string[] }[];
    };
    assert.deepEqual(role.rules, [
      {
        apiGroups: ["cluster.open-cluster-management.io"],
        resources: ["managedclusters"],
        resourceNames: ["c1"],
        verbs: ["get", "list", "watch"],
      },
    ]);
  });
  test("an accepted cluster's rights on ManagedClusters are limited to its own name", () => {
    const role = clusterRoleFor("c1", true) as unknown as {
      rules: { resources: string[]; resourceNames?: string[] }[];
    };
    for (const rule of role.rules.filter((r) =>
      r.resources.some(
        (resource) => resource.startsWith("managedclusters") && !resource.includes("clientcertificates"),
      ),
    )) {
      assert.deepEqual(rule.resourceNames, ["c1"]);
    }
  });
});
