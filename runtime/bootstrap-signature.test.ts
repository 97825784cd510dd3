import assert from "node:assert/strict";
import { test } from "node:test";
import { detachedSignature, detachedSignatureProblem, parseBootstrapToken } from "./bootstrap-signature.ts";

// The bootstrap signer's published example: this content, key id and secret sign to this JWS.
const content = "Hello from the other side. I must have called a thousand times.";
const joshua = { id: "joshua", secret: "my voice is my passcode" };
const joshuaSignature =
  "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8";

test("the detached signature is the one Kubernetes' bootstrap signer writes", () => {
  assert.equal(detachedSignature(content, joshua), joshuaSignature);
  assert.equal(detachedSignatureProblem(joshuaSignature, content, joshua), undefined);
});

test("a signature fails for other content, another secret, another key id or another algorithm", () => {
  const cases: [string, string, string, typeof joshua, RegExp][] = [
    ["content changed", joshuaSignature, `${content}!`, joshua, /does not match/],
    ["secret differs", joshuaSignature, content, { ...joshua, secret: "not my passcode" }, /does not match/],
    [
      "key id differs",
      joshuaSignature,
      content,
      { ...joshua, id: "abcdef" },
      /token id "joshua", not abcdef/,
    ],
    ["not detached", "a.b.c", content, joshua, /not a detached JWS/],
    ["two parts", "a.b", content, joshua, /not a detached JWS/],
    ["header not JSON", "bm90IGpzb24..xyz", content, joshua, /not JSON/],
    [
      "alg none",
      `${Buffer.from(JSON.stringify({ alg: "none", kid: "joshua" })).toString("base64url")}..`,
      content,
      joshua,
      /algorithm is none/,
    ],
    ["truncated signature", joshuaSignature.slice(0, -4), content, joshua, /does not match/],
  ];
  for (const [name, jws, signed, token, expected] of cases) {
    assert.match(detachedSignatureProblem(jws, signed, token) ?? "", expected, name);
  }
});

test("bootstrap tokens are told from other tokens", () => {
  assert.deepEqual(parseBootstrapToken("ocmhub.0123456789abcdef"), {
    id: "ocmhub",
    secret: "0123456789abcdef",
  });
  for (const other of ["eyJhbGciOi.eyJzdWIi.sig", "ocmhub.short", "OCMHUB.0123456789abcdef", "", "a.b.c"]) {
    assert.equal(parseBootstrapToken(other), undefined, other);
  }
});
