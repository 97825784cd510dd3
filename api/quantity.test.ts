import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  addQuantities,
  compareQuantities,
  formatQuantity,
  isQuantity,
  maxQuantityExponent,
  parseQuantity,
  quantitiesEqual,
  quantityFromInteger,
  quantitySign,
  quantityToInt64,
  quantityToNumber,
  QuantityError,
  subtractQuantities,
  tryParseQuantity,
  type Quantity,
  type QuantityFormat,
} from "./quantity.ts";

const canonical = (text: string): string => formatQuantity(parseQuantity(text));

describe("parseQuantity keeps the amount as Kubernetes does", () => {
  // text, unscaled, scale, format: the value is unscaled × 10^scale. Amounts that fit an int64
  // keep the digits and scale as written; others are rounded away from zero to nano units.
  const cases: [string, bigint, number, QuantityFormat][] = [
    ["0", 0n, 0, "DecimalSI"],
    ["4", 4n, 0, "DecimalSI"],
    ["1", 1n, 0, "DecimalSI"],
    ["-3", -3n, 0, "DecimalSI"],
    ["+2", 2n, 0, "DecimalSI"],
    ["1.", 1n, 0, "DecimalSI"],
    ["500m", 500n, -3, "DecimalSI"],
    ["3800m", 3800n, -3, "DecimalSI"],
    ["1.5", 15n, -1, "DecimalSI"],
    [".5", 5n, -1, "DecimalSI"],
    [".001", 1n, -3, "DecimalSI"],
    ["-0.5", -5n, -1, "DecimalSI"],
    ["2k", 2n, 3, "DecimalSI"],
    ["-2k", -2n, 3, "DecimalSI"],
    ["50k", 50n, 3, "DecimalSI"],
    ["1.G", 1n, 9, "DecimalSI"],
    ["1E", 1n, 18, "DecimalSI"],
    ["10.035M", 10035n, 3, "DecimalSI"],
    ["100.035k", 100035n, 0, "DecimalSI"],
    ["1n", 1n, -9, "DecimalSI"],
    ["0n", 0n, -9, "DecimalSI"],
    ["1e3", 1n, 3, "DecimalExponent"],
    ["2e3", 2n, 3, "DecimalExponent"],
    ["1E-3", 1n, -3, "DecimalExponent"],
    ["1.3E+6", 13n, 5, "DecimalExponent"],
    ["0.5e-1", 5n, -2, "DecimalExponent"],
    ["1e999", 1n, 999, "DecimalExponent"],
    ["1Ki", 1024n, 0, "BinarySI"],
    ["0Ki", 0n, 0, "BinarySI"],
    ["7Mi", 7n * 2n ** 20n, 0, "BinarySI"],
    ["16Gi", 16n * 2n ** 30n, 0, "BinarySI"],
    // finer than a nano unit rounds away from zero
    ["0.0000000001", 1n, -9, "DecimalSI"],
    ["0.9n", 1n, -9, "DecimalSI"],
    ["3.001n", 4n, -9, "DecimalSI"],
    ["1.1E-9", 2n, -9, "DecimalExponent"],
    ["0.00000012345", 124n, -9, "DecimalSI"],
    ["1e-999", 1n, -9, "DecimalExponent"],
    // more than 18 digits, a binary fraction or a large binary amount: exact in nano units
    ["1234567890123456789", 1234567890123456789n * 10n ** 9n, -9, "DecimalSI"],
    ["1.5Gi", 1610612736n * 10n ** 9n, -9, "BinarySI"],
    ["-1.5Gi", -1610612736n * 10n ** 9n, -9, "BinarySI"],
    ["0.5Mi", 524288n * 10n ** 9n, -9, "BinarySI"],
    ["100.035Ki", 10243584n * 10n ** 7n, -9, "BinarySI"],
    ["3Ei", 3n * 2n ** 60n * 10n ** 9n, -9, "BinarySI"],
    // a binary amount below one is decimal
    ["0.0001Ki", 102400000n, -9, "DecimalSI"],
    ["0.000000000001Ki", 2n, -9, "DecimalSI"],
    // a binary amount is capped at the largest int64
    ["9Ei", 2n ** 63n - 1n, 0, "BinarySI"],
    ["9223372036854775807Ki", 2n ** 63n - 1n, 0, "BinarySI"],
    ["-2048Ei", -(2n ** 63n - 1n), 0, "BinarySI"],
  ];
  for (const [text, unscaled, scale, format] of cases) {
    it(`parses ${text}`, () => assert.deepEqual(parseQuantity(text), { unscaled, scale, format }));
  }

  // The value in nano units, whatever the representation.
  const nanos: [string, bigint][] = [
    ["4", 4_000_000_000n],
    ["500m", 500_000_000n],
    ["1.5", 1_500_000_000n],
    ["1Ki", 1_024_000_000_000n],
    ["1.5Gi", 1_610_612_736_000_000_000n],
    ["2e3", 2_000_000_000_000n],
    ["1n", 1n],
    ["-2k", -2_000_000_000_000n],
    [".5", 500_000_000n],
  ];
  for (const [text, value] of nanos) {
    it(`${text} is ${value} nano units`, () =>
      assert.equal(
        compareQuantities(parseQuantity(text), { unscaled: value, scale: -9, format: "DecimalSI" }),
        0,
      ));
  }
});

describe("text that is not a quantity names itself and Kubernetes' reason", () => {
  const regex = "quantities must match the regular expression";
  const cases: [string, string][] = [
    ["", regex],
    ["abc", regex],
    ["1Xi", regex],
    ["1.2.3", regex],
    ["1 Gi", regex],
    [" 1", regex],
    ["1 ", regex],
    ["1Gb", regex],
    ["1.1.M", regex],
    ["1+1.0M", regex],
    // Kubernetes' scanner reads these as zero; its grammar, and bosun, ask for a digit.
    ["Mi", regex],
    ["e8", regex],
    [".", regex],
    ["-", regex],
    ["+", regex],
    ["--1", "unable to parse quantity's suffix"],
    ["1e", "unable to parse quantity's suffix"],
    ["1K", "unable to parse quantity's suffix"],
    ["1i", "unable to parse quantity's suffix"],
    ["0.1mi", "unable to parse quantity's suffix"],
    ["-3.01e-", "unable to parse quantity's suffix"],
    ["1e99999999999999999999", "unable to parse quantity's suffix"],
    [`1e${maxQuantityExponent + 1}`, "the exponent is beyond"],
    [`1e-${maxQuantityExponent + 1}`, "the exponent is beyond"],
  ];
  for (const [text, reason] of cases) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parseQuantity(text),
        (error: unknown) =>
          error instanceof QuantityError &&
          error.message.startsWith(`${JSON.stringify(text)} is not a resource quantity: ${reason}`),
      );
      assert.equal(tryParseQuantity(text), undefined);
      assert.equal(isQuantity(text), false);
    });
  }
  it("accepts the largest exponent", () => assert.ok(isQuantity(`1e${maxQuantityExponent}`)));
});

describe("formatQuantity writes the canonical form", () => {
  const cases: [string, string][] = [
    ["0", "0"],
    ["0Ki", "0"],
    ["8", "8"],
    ["8000", "8k"],
    ["1500m", "1500m"],
    ["1.5", "1500m"],
    ["-0.5", "-500m"],
    ["1.2345", "1234500u"],
    ["3.001n", "4n"],
    ["10.035M", "10035k"],
    ["1.G", "1G"],
    ["1000M", "1G"],
    ["+2", "2"],
    ["100", "100"],
    ["1025", "1025"],
    ["12E", "12E"],
    // beyond E a decimal amount takes an exponent
    ["1000E", "1e21"],
    ["16392192Ki", "16008Mi"],
    ["16393472Ki", "16393472Ki"],
    ["32766324Ki", "32766324Ki"],
    ["1024Ki", "1Mi"],
    ["1024Mi", "1Gi"],
    ["1000Ki", "1000Ki"],
    ["2Gi", "2Gi"],
    ["1.5Gi", "1536Mi"],
    ["-1.5Gi", "-1536Mi"],
    ["0.5Mi", "512Ki"],
    // binary amounts with a fraction, or below 1Ki, are written in decimal
    ["100.035Ki", "102435840m"],
    [".001Ki", "1024m"],
    [".000000001Ki", "1024n"],
    ["9Ei", "9223372036854775807"],
    ["1e3", "1e3"],
    ["1.5e3", "1500"],
    ["12e6", "12e6"],
    ["1.3E+6", "1300e3"],
    ["0.5e-1", "50e-3"],
    ["1E-3", "1e-3"],
    ["1e999", "1e999"],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => assert.equal(canonical(input), expected));
  }

  const built: [Quantity, string][] = [
    [{ unscaled: 512n, scale: 0, format: "BinarySI" }, "512"],
    [{ unscaled: 1023n, scale: 0, format: "BinarySI" }, "1023"],
    [{ unscaled: -1024n, scale: 0, format: "BinarySI" }, "-1Ki"],
    [{ unscaled: 15n, scale: -1, format: "BinarySI" }, "1500m"],
    [{ unscaled: 2048n, scale: -1, format: "BinarySI" }, "204800m"],
    [quantityFromInteger(1024n ** 7n, "BinarySI"), "1024Ei"],
    [quantityFromInteger(1_000_000n, "DecimalExponent"), "1e6"],
    [quantityFromInteger(1234000n), "1234k"],
  ];
  for (const [q, expected] of built) {
    it(`${q.unscaled}e${q.scale} ${q.format} → ${expected}`, () => assert.equal(formatQuantity(q), expected));
  }
});

describe("compareQuantities compares values, however written", () => {
  const cases: [string, string, -1 | 0 | 1][] = [
    ["1Gi", "1024Mi", 0],
    ["1", "1000m", 0],
    ["1e3", "1k", 0],
    ["0.5", "500m", 0],
    ["+2", "2", 0],
    [".5Gi", "512Mi", 0],
    ["0", "0Ki", 0],
    ["0", "-0", 0],
    ["1Gi", "1G", 1],
    ["500m", "1", -1],
    ["-1", "0", -1],
    ["1n", "0", 1],
    ["1e999", "1E", 1],
    ["-1e999", "-1E", -1],
    ["3800m", "4", -1],
    ["16Gi", "8Gi", 1],
    // equal once rounded to nano units, or capped, as in Kubernetes
    ["0.0000000001", "0.0000000002", 0],
    ["9Ei", "8Ei", 0],
  ];
  for (const [a, b, expected] of cases) {
    it(`${a} vs ${b}`, () => {
      assert.equal(compareQuantities(parseQuantity(a), parseQuantity(b)), expected);
      assert.equal(compareQuantities(parseQuantity(b), parseQuantity(a)), expected === 0 ? 0 : -expected);
      assert.equal(quantitiesEqual(parseQuantity(a), parseQuantity(b)), expected === 0);
    });
  }
});

describe("sums and differences are exact and keep the first non-zero term's format", () => {
  const cases: [string, string, string, string][] = [
    // a, b, a + b, a - b
    ["8Gi", "512Mi", "8704Mi", "7680Mi"],
    ["0", "1Ki", "1Ki", "-1Ki"],
    ["1Ki", "0", "1Ki", "1Ki"],
    ["1500m", "500m", "2", "1"],
    ["10", "1Ki", "1034", "-1014"],
    ["2Ki", "1", "2049", "2047"],
    ["3Gi", "1Gi", "4Gi", "2Gi"],
    ["1e3", "1", "1001", "999"],
    ["0.1", "0.2", "300m", "-100m"],
    ["1e999", "1n", `1${"0".repeat(1007)}1e-9`, `${"9".repeat(1008)}e-9`],
  ];
  for (const [a, b, sum, difference] of cases) {
    it(`${a} and ${b}`, () => {
      assert.equal(formatQuantity(addQuantities(parseQuantity(a), parseQuantity(b))), sum);
      assert.equal(formatQuantity(subtractQuantities(parseQuantity(a), parseQuantity(b))), difference);
    });
  }
  it("a zero first term takes the other's format", () => {
    assert.equal(addQuantities(parseQuantity("0"), parseQuantity("1Ki")).format, "BinarySI");
    assert.equal(subtractQuantities(parseQuantity("0"), parseQuantity("1e3")).format, "DecimalExponent");
    assert.equal(addQuantities(parseQuantity("1"), parseQuantity("1Ki")).format, "DecimalSI");
  });
});

describe("conversions", () => {
  const numbers: [string, number][] = [
    ["1", 1],
    ["500m", 0.5],
    ["1Ki", 1024],
    ["1.5Gi", 1610612736],
    ["2e3", 2000],
    ["1n", 1e-9],
    ["-2k", -2000],
    [".5", 0.5],
    ["16Gi", 17179869184],
    // the float product of the digits and the power of ten, as Kubernetes computes it
    ["3800m", 3.8000000000000003],
    ["1.2345", 1.2345000000000002],
    ["100.035Ki", 102435.84000000001],
    ["9Ei", 2 ** 63],
    ["1e999", Infinity],
  ];
  for (const [text, value] of numbers) {
    it(`${text} ≈ ${value}`, () => assert.equal(quantityToNumber(parseQuantity(text)), value));
  }

  const integers: [string, bigint | undefined][] = [
    ["2k", 2000n],
    ["1000m", 1n],
    ["-3", -3n],
    ["1E", 10n ** 18n],
    ["9223372036854775807", 2n ** 63n - 1n],
    ["-9223372036854775808", -(2n ** 63n)],
    ["1.5Gi", 1610612736n],
    ["1.5", undefined],
    ["1n", undefined],
    ["9223372036854775808", undefined],
    ["10E", undefined],
    ["1e999", undefined],
  ];
  for (const [text, value] of integers) {
    it(`${text} as an int64 is ${value}`, () => assert.equal(quantityToInt64(parseQuantity(text)), value));
  }

  it("signs", () => {
    assert.deepEqual(
      ["-1", "0", "0Ki", "1n", "-1e-999"].map((text) => quantitySign(parseQuantity(text))),
      [-1, 0, 0, 1, -1],
    );
  });
});
