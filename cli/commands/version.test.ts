import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { stringify } from "yaml";
import {
  bosunVersion,
  formatVersion,
  readServerVersion,
  serverVersion,
  type VersionInfo,
} from "./version.ts";

const packageVersion = (
  JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "package.json"), "utf8")) as {
    version: string;
  }
).version;

describe("bosunVersion", () => {
  it("is package.json's version, found from any directory below it", () => {
    assert.equal(bosunVersion(), packageVersion);
    assert.equal(bosunVersion(join(import.meta.dirname, "..", "..", "runtime", "kube")), packageVersion);
  });

  it("fails outside bosun's tree", () =>
    assert.throws(() => bosunVersion(tmpdir()), /no package\.json of bosun above/));
});

describe("formatVersion", () => {
  const base: VersionInfo = { bosunVersion: "0.1.0", nodeVersion: "v24.21.0", platform: "linux/x64" };
  const cases: { name: string; info: VersionInfo; output: "text" | "json" | "yaml"; expected: string }[] = [
    {
      name: "text without a server",
      info: base,
      output: "text",
      expected: "bosun: 0.1.0\nnode: v24.21.0\nplatform: linux/x64",
    },
    {
      name: "text with the server's version",
      info: { ...base, server: { url: "https://hub:6443", context: "hub", gitVersion: "v1.36.3" } },
      output: "text",
      expected:
        "bosun: 0.1.0\nnode: v24.21.0\nplatform: linux/x64\nserver: v1.36.3 (https://hub:6443, context hub)",
    },
    {
      name: "text with an unreachable server",
      info: { ...base, server: { url: "https://hub:6443", context: "hub", error: "cannot reach it" } },
      output: "text",
      expected:
        "bosun: 0.1.0\nnode: v24.21.0\nplatform: linux/x64\nserver: unknown (https://hub:6443, context hub): cannot reach it",
    },
    {
      name: "json",
      info: base,
      output: "json",
      expected: '{\n  "bosunVersion": "0.1.0",\n  "nodeVersion": "v24.21.0",\n  "platform": "linux/x64"\n}',
    },
    {
      name: "yaml",
      info: { ...base, server: { url: "u", context: "c", gitVersion: "v1" } },
      output: "yaml",
      expected:
        "bosunVersion: 0.1.0\nnodeVersion: v24.21.0\nplatform: linux/x64\nserver:\n  url: u\n  context: c\n  gitVersion: v1",
    },
  ];
  for (const { name, info, output, expected } of cases)
    it(name, () => assert.equal(formatVersion(info, output), expected));
});

describe("serverVersion", () => {
  const dir = mkdtempSync(join(tmpdir(), "bosun-version-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reads gitVersion from /version", async () => {
    const asked: string[] = [];
    const version = await readServerVersion({
      request: <T>(spec: { path: string }) => {
        asked.push(spec.path);
        return Promise.resolve({ gitVersion: "v1.36.3", major: "1" } as T);
      },
    });
    assert.equal(version, "v1.36.3");
    assert.deepEqual(asked, ["/version"]);
  });

  it("is left out when no kubeconfig is given or found", async () =>
    assert.equal(await serverVersion({}, {}, dir), undefined));

  it("reports a kubeconfig that was asked for and is missing, without failing", async () =>
    assert.deepEqual(await serverVersion({ kubeconfig: join(dir, "nope") }, {}, dir), {
      url: "",
      context: "",
      error: `--kubeconfig ${join(dir, "nope")}: no such file`,
    }));

  it("reports a server that refuses the connection, without failing", async () => {
    const kubeconfig = join(dir, "refused");
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        // Port 1 on loopback: nothing listens there.
        clusters: [
          { name: "c", cluster: { server: "https://127.0.0.1:1", "insecure-skip-tls-verify": true } },
        ],
        users: [{ name: "u", user: { token: "t" } }],
        contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
        "current-context": "ctx",
      }),
    );
    const version = await serverVersion({ kubeconfig }, {}, dir);
    assert.equal(version?.url, "https://127.0.0.1:1");
    assert.equal(version?.gitVersion, undefined);
    assert.match(
      version?.error ?? "",
      /^cannot reach the API server at https:\/\/127\.0\.0\.1:1 \(connection refused\)/,
    );
  });
});
