import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FeedbackRule, FeedbackValue } from "../../api/types/work.ts";
import {
  aggregateErrors,
  formatGroupVersionKind,
  goJson,
  groupVersionKindOf,
  statusFeedback,
  valueByJsonPath,
  valuesByRule,
  wellKnownStatusPaths,
  type FeedbackOptions,
} from "./feedback.ts";

const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web" },
  status: {
    readyReplicas: 1,
    replicas: 2,
    conditions: [
      { type: "Available", status: "True" },
      { type: "Progressing", status: "True" },
      { type: "ReplicaFailure", status: "False" },
    ],
    ratio: 0.25,
    note: "<a&b>",
  },
};
const daemonSet = {
  apiVersion: "apps/v1",
  kind: "DaemonSet",
  status: { numberReady: 2, desiredNumberScheduled: 3, numberAvailable: 2 },
};
const job = {
  apiVersion: "batch/v1",
  kind: "Job",
  status: { conditions: [{ type: "Complete", status: "True" }], succeeded: 1 },
};
const pod = {
  apiVersion: "v1",
  kind: "Pod",
  status: { conditions: [{ type: "Ready", status: "False" }], phase: "Succeeded" },
};
const serviceAccount = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "sa" } };

const int = (name: string, integer: number): FeedbackValue => ({
  name,
  fieldValue: { type: "Integer", integer },
});
const str = (name: string, string: string): FeedbackValue => ({
  name,
  fieldValue: { type: "String", string },
});
const raw = (name: string, jsonRaw: string): FeedbackValue => ({
  name,
  fieldValue: { type: "JsonRaw", jsonRaw },
});
const wellKnown: FeedbackRule = { type: "WellKnownStatus" };
const paths = (...jsonPaths: { name: string; path: string; version?: string }[]): FeedbackRule => ({
  type: "JSONPaths",
  jsonPaths,
});

describe("feedback: values of one rule", () => {
  const cases: {
    name: string;
    object: unknown;
    rule: FeedbackRule;
    options?: FeedbackOptions;
    values: FeedbackValue[];
    errors: string[];
  }[] = [
    {
      name: "Deployment well-known values skip the missing AvailableReplicas",
      object: deployment,
      rule: wellKnown,
      values: [int("ReadyReplicas", 1), int("Replicas", 2)],
      errors: [],
    },
    {
      name: "DaemonSet well-known values",
      object: daemonSet,
      rule: wellKnown,
      values: [int("NumberReady", 2), int("DesiredNumberScheduled", 3), int("NumberAvailable", 2)],
      errors: [],
    },
    {
      name: "Job well-known values",
      object: job,
      rule: wellKnown,
      values: [str("JobComplete", "True"), int("JobSucceeded", 1)],
      errors: [],
    },
    {
      name: "Pod well-known values",
      object: pod,
      rule: wellKnown,
      values: [str("PodReady", "False"), str("PodPhase", "Succeeded")],
      errors: [],
    },
    {
      name: "a kind without well-known status",
      object: serviceAccount,
      rule: wellKnown,
      values: [],
      errors: ["cannot find the wellknown statuses for resource with gvk /v1, Kind=ServiceAccount"],
    },
    {
      name: "a Deployment of another group is not well known",
      object: { ...deployment, apiVersion: "extensions/v1" },
      rule: wellKnown,
      values: [],
      errors: ["cannot find the wellknown statuses for resource with gvk extensions/v1, Kind=Deployment"],
    },
    {
      name: "a filtered path with a trailing space",
      object: deployment,
      rule: paths({ name: "available", path: '.status.conditions[?(@.type=="Available")].status ' }),
      values: [str("available", "True")],
      errors: [],
    },
    {
      name: "a list without raw JSON fails, other paths still report",
      object: deployment,
      rule: paths(
        { name: "conditions", path: ".status.conditions" },
        { name: "replicas", path: ".status.replicas" },
      ),
      values: [int("replicas", 2)],
      errors: ["the type []interface {} of the value for conditions is not found"],
    },
    {
      name: "a float without raw JSON fails",
      object: deployment,
      rule: paths({ name: "ratio", path: ".status.ratio" }),
      values: [],
      errors: ["the type float64 of the value for ratio is not found"],
    },
    {
      name: "a path version must match the object's",
      object: deployment,
      rule: paths(
        { name: "conditions", path: ".status.conditions", version: "v1beta1" },
        { name: "replicas", path: ".status.replicas", version: "v1" },
      ),
      values: [int("replicas", 2)],
      errors: ["version set in the path conditions is not matched for the related resource"],
    },
    {
      name: "a missing field reports nothing and no error",
      object: deployment,
      rule: paths({ name: "gone", path: ".status.observedGeneration" }),
      values: [],
      errors: [],
    },
    {
      name: "a bad path is a parse error",
      object: deployment,
      rule: paths({ name: "bad", path: ".status[" }),
      values: [],
      errors: ["failed to parse json path .status[ of bad with error: unterminated array"],
    },
    {
      name: "an out-of-range index is an evaluation error",
      object: deployment,
      rule: paths({ name: "fifth", path: ".status.conditions[4].type" }),
      values: [],
      errors: ["failed to find value for fifth with error: array index out of bounds: index 4, length 3"],
    },
    {
      name: "raw JSON of a structure, keys sorted",
      object: pod,
      rule: paths({ name: "conditions", path: ".status.conditions" }),
      options: { rawJson: true },
      values: [raw("conditions", '[{"status":"False","type":"Ready"}]')],
      errors: [],
    },
    {
      name: "several matches become one raw JSON list",
      object: deployment,
      rule: paths({ name: "true", path: '.status.conditions[?(@.status=="True")].type' }),
      options: { rawJson: true },
      values: [raw("true", '["Available","Progressing"]')],
      errors: [],
    },
    {
      name: "one match of a scalar stays typed with raw JSON on",
      object: deployment,
      rule: paths({ name: "ready", path: ".status.readyReplicas" }),
      options: { rawJson: true },
      values: [int("ready", 1)],
      errors: [],
    },
    {
      name: "raw JSON of a float",
      object: deployment,
      rule: paths({ name: "ratio", path: ".status.ratio" }),
      options: { rawJson: true },
      values: [raw("ratio", "0.25")],
      errors: [],
    },
    {
      name: "raw JSON over the configured length",
      object: deployment,
      rule: paths({ name: "status", path: ".status" }),
      options: { rawJson: true, maxJsonRawLength: 40 },
      values: [],
      errors: ["the length of returned json raw string for name status is larger than the maximum length 40"],
    },
  ];
  for (const c of cases) {
    it(c.name, () =>
      assert.deepEqual(valuesByRule(c.object, c.rule, c.options), { values: c.values, errors: c.errors }),
    );
  }
});

describe("feedback: raw JSON length", () => {
  it("the default limit is 1024 bytes of UTF-8", () => {
    const fits = { apiVersion: "v1", kind: "X", status: { list: ["é".repeat(510)] } };
    const over = { apiVersion: "v1", kind: "X", status: { list: ["é".repeat(511)] } };
    const options = { rawJson: true };
    assert.equal(valueByJsonPath("l", ".status.list", fits, options).ok, true);
    assert.deepEqual(valueByJsonPath("l", ".status.list", over, options), {
      ok: false,
      error: "the length of returned json raw string for name l is larger than the maximum length 1024",
    });
  });
});

describe("feedback: StatusFeedbackSynced", () => {
  const cases: {
    name: string;
    rules: FeedbackRule[] | undefined;
    object: unknown;
    status: string;
    reason: string;
    message: string;
    values: FeedbackValue[];
  }[] = [
    {
      name: "no rules",
      rules: undefined,
      object: deployment,
      status: "True",
      reason: "NoStatusFeedbackSynced",
      message: "",
      values: [],
    },
    {
      name: "empty rules",
      rules: [],
      object: deployment,
      status: "True",
      reason: "NoStatusFeedbackSynced",
      message: "",
      values: [],
    },
    {
      name: "every path read",
      rules: [wellKnown, paths({ name: "phase", path: ".status.phase" })],
      object: pod,
      status: "True",
      reason: "StatusFeedbackSynced",
      message: "",
      values: [str("PodReady", "False"), str("PodPhase", "Succeeded"), str("phase", "Succeeded")],
    },
    {
      name: "one error",
      rules: [wellKnown],
      object: serviceAccount,
      status: "False",
      reason: "StatusFeedbackSyncFailed",
      message:
        "Sync status feedback failed with error cannot find the wellknown statuses for resource with gvk /v1, Kind=ServiceAccount",
      values: [],
    },
    {
      name: "errors of several rules are listed once each",
      rules: [
        paths({ name: "a", path: ".status.conditions" }),
        paths({ name: "a", path: ".status.conditions" }, { name: "r", path: ".status.ratio" }),
      ],
      object: deployment,
      status: "False",
      reason: "StatusFeedbackSyncFailed",
      message:
        "Sync status feedback failed with error [the type []interface {} of the value for a is not found, the type float64 of the value for r is not found]",
      values: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = statusFeedback(c.object, c.rules);
      assert.deepEqual(result.values, c.values);
      assert.deepEqual(result.condition, {
        type: "StatusFeedbackSynced",
        status: c.status,
        reason: c.reason,
        message: c.message,
      });
    });
  }
});

describe("feedback: helpers", () => {
  const gvks: [unknown, string][] = [
    [deployment, "apps/v1, Kind=Deployment"],
    [pod, "/v1, Kind=Pod"],
    [{ apiVersion: "a/b/c", kind: "X" }, "/, Kind="],
    [{}, "/, Kind="],
    ["not an object", "/, Kind="],
  ];
  for (const [object, printed] of gvks) {
    it(`GVK of ${JSON.stringify(object)}`, () =>
      assert.equal(formatGroupVersionKind(groupVersionKindOf(object)), printed));
  }

  it("well-known paths need the exact group, version and kind", () => {
    assert.equal(wellKnownStatusPaths({ group: "batch", version: "v1", kind: "Job" }).length, 2);
    assert.equal(wellKnownStatusPaths({ group: "batch", version: "v1beta1", kind: "Job" }).length, 0);
  });

  const json: [unknown, string][] = [
    [{ b: 1, a: [true, null] }, '{"a":[true,null],"b":1}'],
    ["<a&b>", '"\\u003ca\\u0026b\\u003e"'],
    ["line\u2028sep", '"line\\u2028sep"'],
    [0.25, "0.25"],
    [1e21, "1e+21"],
  ];
  for (const [value, text] of json) {
    it(`Go JSON of ${JSON.stringify(value)}`, () => assert.equal(goJson(value), text));
  }

  const aggregates: [string[], string][] = [
    [["a"], "a"],
    [["a", "a"], "a"],
    [["a", "b", "a"], "[a, b]"],
  ];
  for (const [messages, text] of aggregates) {
    it(`aggregate of ${JSON.stringify(messages)}`, () => assert.equal(aggregateErrors(messages), text));
  }
});
