import assert from "node:assert/strict";
import { test } from "node:test";
import { parseManifestLimit } from "./hub.ts";

test("--manifest-limit takes a positive whole number of bytes", () => {
  assert.equal(parseManifestLimit("512000"), 512000);
  assert.equal(parseManifestLimit(" 1024 "), 1024);
  for (const bad of ["0", "-1", "1.5", "500k", "", "1e6"]) {
    assert.throws(() => parseManifestLimit(bad), /--manifest-limit must be a positive number of bytes/, bad);
  }
});
