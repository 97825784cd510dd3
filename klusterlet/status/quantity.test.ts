import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addQuantities, canonicalQuantity, formatQuantity, parseQuantity } from "./quantity.ts";

describe("parseQuantity", () => {
  const cases: [string, bigint, string][] = [
    ["0", 0n, "DecimalSI"],
    ["4", 4_000_000_000n, "DecimalSI"],
    ["500m", 500_000_000n, "DecimalSI"],
    ["1.5", 1_500_000_000n, "DecimalSI"],
    [".5", 500_000_000n, "DecimalSI"],
    ["2k", 2_000_000_000_000n, "DecimalSI"],
    ["1Ki", 1_024_000_000_000n, "BinarySI"],
    ["1.5Gi", 1_610_612_736_000_000_000n, "BinarySI"],
    ["1e3", 1_000_000_000_000n, "DecimalExponent"],
    ["-3", -3_000_000_000n, "DecimalSI"],
    ["1n", 1n, "DecimalSI"],
    // finer than a nano unit rounds up
    ["0.0000000001", 1n, "DecimalSI"],
  ];
  for (const [text, nanos, format] of cases) {
    it(`parses ${text}`, () => assert.deepEqual(parseQuantity(text), { nanos, format }));
  }

  it("rejects text that is not a quantity, naming it", () => {
    for (const bad of ["", "abc", "1Xi", "1.2.3", "--1"]) {
      assert.throws(
        () => parseQuantity(bad),
        (error: Error) => error.message.includes(`"${bad}"`),
      );
    }
  });
});

describe("formatQuantity", () => {
  const cases: [string, string][] = [
    ["0", "0"],
    ["8", "8"],
    ["8000", "8k"],
    ["1500m", "1500m"],
    ["1.5", "1500m"],
    ["16392192Ki", "16008Mi"],
    ["16393472Ki", "16393472Ki"],
    ["1024Ki", "1Mi"],
    ["1025", "1025"],
    ["1000Ki", "1000Ki"],
    ["100", "100"],
    ["1e3", "1e3"],
    ["1.5e3", "1500"],
    ["12e6", "12e6"],
    ["2Gi", "2Gi"],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => assert.equal(canonicalQuantity(input), expected));
  }

  it("writes small binary quantities in decimal", () => {
    assert.equal(formatQuantity({ nanos: 512_000_000_000n, format: "BinarySI" }), "512");
    assert.equal(formatQuantity({ nanos: 1_500_000_000n, format: "BinarySI" }), "1500m");
  });
});

describe("addQuantities", () => {
  it("sums exactly and keeps the first non-zero term's format", () => {
    const sum = addQuantities(parseQuantity("8Gi"), parseQuantity("512Mi"));
    assert.equal(formatQuantity(sum), "8704Mi");
    assert.equal(formatQuantity(addQuantities(parseQuantity("0"), parseQuantity("1Ki"))), "1Ki");
    assert.equal(formatQuantity(addQuantities(parseQuantity("1500m"), parseQuantity("500m"))), "2");
  });
});
