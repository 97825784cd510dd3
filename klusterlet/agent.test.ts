import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { systemClock } from "../runtime/clock.ts";
import type { KubeClient } from "../runtime/kube/client.ts";
import { runAgent, validateAgentOptions, type AgentOptions } from "./agent.ts";

const base: AgentOptions = {
  managedClient: {} as KubeClient,
  clusterName: "cluster1",
  clock: systemClock(),
  logger: pino({ level: "silent" }),
  signal: new AbortController().signal,
};

describe("validateAgentOptions", () => {
  it("accepts good options", () => {
    validateAgentOptions(base);
    validateAgentOptions({
      ...base,
      agentName: "abcde",
      expirationSeconds: 3600,
      externalServerUrls: ["https://api.cluster1.example:6443"],
      maxCustomClusterClaims: 0,
    });
  });

  const bad: [string, Partial<AgentOptions>, RegExp][] = [
    ["an upper-case cluster name", { clusterName: "Cluster1" }, /clusterName: "Cluster1"/],
    ["an empty cluster name", { clusterName: "" }, /clusterName/],
    ["a cluster name longer than 63", { clusterName: "c".repeat(64) }, /clusterName/],
    ["an agent name with a colon", { agentName: "a:b" }, /agentName: "a:b"/],
    [
      "a certificate lifetime under an hour",
      { expirationSeconds: 60 },
      /expirationSeconds must be 0 or an integer >= 3600, got 60/,
    ],
    [
      "a plain-http external URL",
      { externalServerUrls: ["http://x:6443"] },
      /externalServerUrls: "http:\/\/x:6443" must be an https URL/,
    ],
    [
      "a URL that is not one",
      { externalServerUrls: ["not a url"] },
      /externalServerUrls: "not a url" is not a URL/,
    ],
    ["a negative claim limit", { maxCustomClusterClaims: -1 }, /maxCustomClusterClaims/],
  ];
  for (const [name, override, message] of bad) {
    it(`refuses ${name}`, () => assert.throws(() => validateAgentOptions({ ...base, ...override }), message));
  }

  it("makes runAgent reject before touching any cluster", async () => {
    await assert.rejects(runAgent({ ...base, clusterName: "Bad_Name" }), /clusterName/);
  });
});
