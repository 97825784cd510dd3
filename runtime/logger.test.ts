import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "./logger.ts";

function capturing(options: Parameters<typeof createLogger>[0] = {}) {
  const entries: Record<string, unknown>[] = [];
  const logger = createLogger({
    ...options,
    destination: { write: (line: string) => void entries.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, entries };
}

describe("createLogger", () => {
  it("writes JSON entries with the component name and an ISO timestamp", () => {
    const { logger, entries } = capturing({ name: "hub" });
    logger.info({ key: "ns/a" }, "reconciled");
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.name, "hub");
    assert.equal(entries[0]?.key, "ns/a");
    assert.equal(entries[0]?.msg, "reconciled");
    assert.match(String(entries[0]?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("drops entries below the configured level (info by default)", () => {
    const { logger, entries } = capturing();
    logger.debug("hidden");
    logger.warn("shown");
    assert.deepEqual(
      entries.map((entry) => entry.msg),
      ["shown"],
    );
  });

  it("redacts credential fields at the top level and one object deep", () => {
    const { logger, entries } = capturing({ level: "debug" });
    logger.debug(
      {
        token: "abc",
        bootstrap: { token: "def", server: "https://hub" },
        headers: { authorization: "Bearer x" },
      },
      "joining",
    );
    assert.equal(entries[0]?.token, "[redacted]");
    assert.deepEqual(entries[0]?.bootstrap, { token: "[redacted]", server: "https://hub" });
    assert.deepEqual(entries[0]?.headers, { authorization: "[redacted]" });
    assert.ok(!JSON.stringify(entries).includes("Bearer x"));
  });
});
