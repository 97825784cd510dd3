import assert from "node:assert/strict";
import { test } from "node:test";
import { parseGoDuration } from "./duration.ts";

const cases: [string, number | string][] = [
  ["0", 0],
  ["90s", 90_000],
  ["1h30m", 5_400_000],
  ["1.5h", 5_400_000],
  ["300ms", 300],
  ["1500us", 1.5],
  ["2\u00b5s", 0.002],
  ["-1m", -60_000],
  ["+2s", 2000],
  ["", 'time: invalid duration ""'],
  ["5", 'time: missing unit in duration "5"'],
  ["1d", 'time: unknown unit "d" in duration "1d"'],
  ["abc", 'time: invalid duration "abc"'],
  [".s", 'time: invalid duration ".s"'],
];

for (const [text, expected] of cases) {
  test(`parseGoDuration(${JSON.stringify(text)})`, () => {
    assert.deepEqual(
      parseGoDuration(text),
      typeof expected === "number" ? { ok: true, value: expected } : { ok: false, error: expected },
    );
  });
}
