import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DeleteOption, ManifestConfigOption } from "../../api/types/work.ts";
import {
  findManifestConfiguration,
  ownedByTheWork,
  updateStrategyOf,
  wildcardMatch,
  type ResourceKey,
} from "./config.ts";

describe("wildcardMatch", () => {
  const cases: [string, string, boolean][] = [
    ["web", "web", true],
    ["web", "*", true],
    ["", "*", true],
    ["", "", true],
    ["web", "", false],
    ["", "web", false],
    ["web", "we", false],
    ["web-1", "web-*", true],
    ["web-", "web-*", true],
    ["web", "web-*", false],
    ["app-web", "*-web", true],
    ["app-web-x", "*-web", false],
    ["a-b-c", "a*c", true],
    ["abc", "a*b*c", true],
    ["ac", "a*b*c", false],
    ["abcbc", "a*bc", true],
    ["aXbYc", "a*b*c", true],
    ["ab", "a*b*b", false],
    ["a.b", "a.b", true],
    ["axb", "a.b", false],
    ["a+b", "a+b", true],
    ["aab", "a+b", false],
    ["(x)", "(*)", true],
  ];
  for (const [value, pattern, expected] of cases) {
    it(`${JSON.stringify(value)} ~ ${JSON.stringify(pattern)} is ${expected}`, () =>
      assert.equal(wildcardMatch(value, pattern), expected));
  }
});

describe("findManifestConfiguration", () => {
  const deployment: ResourceKey = {
    group: "apps",
    resource: "deployments",
    namespace: "default",
    name: "web",
  };
  const replicas = { type: "JSONPaths" as const, jsonPaths: [{ name: "replicas", path: ".spec.replicas" }] };
  const wellKnown = { type: "WellKnownStatus" as const };
  const complete = { condition: "Complete", type: "WellKnownConditions" as const };
  const ssa = { type: "ServerSideApply" as const, serverSideApply: { force: true } };
  const id = (name: string, namespace = "default", group = "apps", resource = "deployments") => ({
    group,
    resource,
    name,
    namespace,
  });
  const own = {
    resourceIdentifier: { group: "apps", resource: "deployments", name: "web", namespace: "default" },
  };

  const cases: {
    name: string;
    key?: ResourceKey;
    options: ManifestConfigOption[] | undefined;
    expected: ManifestConfigOption | undefined;
  }[] = [
    { name: "no options", options: undefined, expected: undefined },
    {
      name: "an exact match",
      options: [{ resourceIdentifier: id("web"), feedbackRules: [replicas] }],
      expected: { ...own, feedbackRules: [replicas] },
    },
    {
      name: "name and namespace wildcards",
      options: [{ resourceIdentifier: id("w*", "*"), updateStrategy: ssa }],
      expected: { ...own, updateStrategy: ssa },
    },
    {
      name: "another group does not match",
      options: [{ resourceIdentifier: id("web", "default", "extensions"), feedbackRules: [replicas] }],
      expected: undefined,
    },
    {
      name: "another resource does not match",
      options: [
        { resourceIdentifier: id("web", "default", "apps", "statefulsets"), feedbackRules: [replicas] },
      ],
      expected: undefined,
    },
    {
      name: "a missing namespace pattern only matches cluster-scoped resources",
      options: [
        {
          resourceIdentifier: { group: "apps", resource: "deployments", name: "web" },
          feedbackRules: [replicas],
        },
      ],
      expected: undefined,
    },
    {
      name: "a cluster-scoped resource matches an empty namespace",
      key: { group: "", resource: "namespaces", name: "team" },
      options: [
        {
          resourceIdentifier: { resource: "namespaces", name: "team" },
          updateStrategy: { type: "CreateOnly" },
        },
      ],
      expected: {
        resourceIdentifier: { group: "", resource: "namespaces", name: "team", namespace: "" },
        updateStrategy: { type: "CreateOnly" },
      },
    },
    {
      name: "first non-empty rules and first strategy win; scrape type comes from the last match",
      options: [
        { resourceIdentifier: id("*"), feedbackRules: [], feedbackScrapeType: "Poll" },
        {
          resourceIdentifier: id("web"),
          feedbackRules: [replicas],
          conditionRules: [],
          feedbackScrapeType: "Watch",
        },
        {
          resourceIdentifier: id("w*"),
          feedbackRules: [wellKnown],
          updateStrategy: ssa,
          conditionRules: [complete],
        },
        { resourceIdentifier: id("nope"), feedbackScrapeType: "Poll" },
        { resourceIdentifier: id("*eb"), updateStrategy: { type: "ReadOnly" }, feedbackScrapeType: "Watch" },
      ],
      expected: {
        ...own,
        feedbackRules: [replicas],
        conditionRules: [complete],
        updateStrategy: ssa,
        feedbackScrapeType: "Watch",
      },
    },
    {
      name: "a later match without a scrape type clears an earlier one",
      options: [
        { resourceIdentifier: id("web"), feedbackRules: [replicas], feedbackScrapeType: "Watch" },
        { resourceIdentifier: id("*"), updateStrategy: { type: "Update" } },
      ],
      expected: { ...own, feedbackRules: [replicas], updateStrategy: { type: "Update" } },
    },
    {
      name: "only a scrape type is no configuration",
      options: [{ resourceIdentifier: id("web"), feedbackScrapeType: "Watch", feedbackRules: [] }],
      expected: undefined,
    },
    {
      name: "condition rules alone are a configuration",
      options: [{ resourceIdentifier: id("web"), conditionRules: [complete] }],
      expected: { ...own, conditionRules: [complete] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(findManifestConfiguration(c.key ?? deployment, c.options), c.expected));
  }

  it("defaults the strategy to Update", () => {
    assert.deepEqual(updateStrategyOf(undefined), { type: "Update" });
    assert.deepEqual(updateStrategyOf({ ...own, feedbackRules: [replicas] }), { type: "Update" });
    assert.deepEqual(updateStrategyOf({ ...own, updateStrategy: ssa }), ssa);
  });
});

describe("ownedByTheWork", () => {
  const cm: ResourceKey = { group: "", resource: "configmaps", namespace: "default", name: "cm" };
  const rule = { group: "", resource: "configmaps", namespace: "default", name: "cm" };
  const cases: [string, DeleteOption | undefined, boolean][] = [
    ["no deleteOption", undefined, true],
    ["Foreground", { propagationPolicy: "Foreground" }, true],
    [
      "Foreground ignores orphaning rules",
      { propagationPolicy: "Foreground", selectivelyOrphans: { orphaningRules: [rule] } },
      true,
    ],
    ["Orphan", { propagationPolicy: "Orphan" }, false],
    ["SelectivelyOrphan without selectivelyOrphans", { propagationPolicy: "SelectivelyOrphan" }, true],
    [
      "SelectivelyOrphan with no rules",
      { propagationPolicy: "SelectivelyOrphan", selectivelyOrphans: {} },
      true,
    ],
    [
      "a matching rule",
      { propagationPolicy: "SelectivelyOrphan", selectivelyOrphans: { orphaningRules: [rule] } },
      false,
    ],
    [
      "a rule without group matches the core group",
      {
        propagationPolicy: "SelectivelyOrphan",
        selectivelyOrphans: {
          orphaningRules: [{ resource: "configmaps", namespace: "default", name: "cm" }],
        },
      },
      false,
    ],
    [
      "rules take no wildcards",
      {
        propagationPolicy: "SelectivelyOrphan",
        selectivelyOrphans: { orphaningRules: [{ ...rule, name: "*" }] },
      },
      true,
    ],
    [
      "another namespace",
      {
        propagationPolicy: "SelectivelyOrphan",
        selectivelyOrphans: { orphaningRules: [{ ...rule, namespace: "kube-system" }] },
      },
      true,
    ],
    [
      "another resource",
      {
        propagationPolicy: "SelectivelyOrphan",
        selectivelyOrphans: { orphaningRules: [{ ...rule, resource: "secrets" }] },
      },
      true,
    ],
    [
      "another group",
      {
        propagationPolicy: "SelectivelyOrphan",
        selectivelyOrphans: { orphaningRules: [{ ...rule, group: "apps" }] },
      },
      true,
    ],
    [
      "one of several rules matches",
      {
        propagationPolicy: "SelectivelyOrphan",
        selectivelyOrphans: { orphaningRules: [{ ...rule, name: "other" }, rule] },
      },
      false,
    ],
    [
      "a deleteOption without policy still honours rules",
      { selectivelyOrphans: { orphaningRules: [rule] } },
      false,
    ],
    ["a deleteOption without policy or rules", {}, true],
  ];
  for (const [name, option, expected] of cases) {
    it(name, () => assert.equal(ownedByTheWork(option, cm), expected));
  }
});
