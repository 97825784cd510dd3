import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareSemver, normalizeSemver, parseSemver, type Semver } from "./semver.ts";

describe("semver", () => {
  const order: [string, string, number][] = [
    ["1.0.0", "2.0.0", -1],
    ["1.10.0", "1.9.0", 1],
    ["1.0.0-alpha", "1.0.0", -1],
    ["1.0.0-alpha", "1.0.0-alpha.1", -1],
    ["1.0.0-alpha.1", "1.0.0-alpha.beta", -1],
    ["1.0.0-beta.2", "1.0.0-beta.11", -1],
    ["1.0.0-rc.1", "1.0.0-beta.11", 1],
    ["1.0.0+build", "1.0.0", 0],
  ];
  for (const [a, b, want] of order) {
    it(`${a} vs ${b}`, () =>
      assert.equal(compareSemver(parseSemver(a) as Semver, parseSemver(b) as Semver), want));
  }
  for (const bad of ["1.2", "v1.2.3", "01.2.3", "1.2.3-01", "1.2.3-", "a.b.c"]) {
    it(`rejects ${bad}`, () => assert.equal(typeof parseSemver(bad), "string"));
  }
  const normalized: [string, string][] = [
    ["v1.30", "1.30.0"],
    ["1", "1.0.0"],
    ["v1.02.003-rc.1", "1.2.3-rc.1"],
  ];
  for (const [input, want] of normalized)
    it(`normalizes ${input}`, () => assert.equal(normalizeSemver(input), want));
});
