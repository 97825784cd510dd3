// Kubernetes resource quantities for CEL, as Kubernetes' CEL quantity library defines them:
// quantity(s), isQuantity(s), and the methods sign(), isInteger(), asInteger(),
// asApproximateFloat(), add(q|int), sub(q|int), isLessThan(q), isGreaterThan(q), compareTo(q).
import { CelScalar, celFunc, celMethod, type CelFunc, type CelValue } from "@bufbuild/cel";
import {
  addQuantities,
  compareQuantities,
  formatQuantity,
  isQuantity,
  parseQuantity,
  quantityFromInteger,
  quantitySign,
  quantityToInt64,
  quantityToNumber,
  subtractQuantities,
  QuantityError,
  type Quantity,
} from "../../api/quantity.ts";
import { celTypeName, opaque, opaqueValue } from "./values.ts";

const { STRING, BOOL, INT, DOUBLE, DYN } = CelScalar;

export interface QuantityLibrary {
  functions: CelFunc[];
  compare(target: CelValue, other: CelValue, method: string): number | undefined;
}

export function quantityLibrary(): QuantityLibrary {
  // A CEL quantity is an opaque value holding its canonical decimal text, so that equal amounts
  // are equal values. The parsed quantity rides beside it: asApproximateFloat, like Kubernetes',
  // depends on how the amount was written.
  const parsed = new WeakMap<object, Quantity>();
  const toCel = (q: Quantity): CelValue => {
    const value = opaque("quantity", formatQuantity({ ...q, format: "DecimalExponent" }));
    parsed.set(value, q);
    return value;
  };
  const quantityOf = (value: CelValue | undefined, method: string): Quantity => {
    const text = opaqueValue("quantity", value);
    if (text === undefined) throw new Error(`no such overload: ${celTypeName(value)}.${method}`);
    return parsed.get(value as object) ?? parseQuantity(text);
  };
  const operand = (value: CelValue, method: string): Quantity =>
    typeof value === "bigint" ? quantityFromInteger(value, "DecimalExponent") : quantityOf(value, method);

  const cache = new Map<string, CelValue | QuantityError>();
  const fromText = (text: string): CelValue => {
    let value = cache.get(text);
    if (value === undefined) {
      if (cache.size > 10_000) cache.clear();
      try {
        value = toCel(parseQuantity(text));
      } catch (error) {
        if (!(error instanceof QuantityError)) throw error;
        value = error;
      }
      cache.set(text, value);
    }
    if (value instanceof QuantityError)
      throw new Error(`invalid quantity: ${value.message}`, { cause: value });
    return value;
  };

  const functions: CelFunc[] = [
    celFunc("quantity", [STRING], DYN, fromText),
    celFunc("isQuantity", [STRING], BOOL, (text) => isQuantity(text)),
    celMethod("sign", DYN, [], INT, function () {
      return BigInt(quantitySign(quantityOf(this, "sign")));
    }),
    celMethod("isInteger", DYN, [], BOOL, function () {
      return quantityToInt64(quantityOf(this, "isInteger")) !== undefined;
    }),
    celMethod("asInteger", DYN, [], INT, function () {
      const value = quantityToInt64(quantityOf(this, "asInteger"));
      if (value === undefined) throw new Error("cannot convert value to integer");
      return value;
    }),
    celMethod("asApproximateFloat", DYN, [], DOUBLE, function () {
      return quantityToNumber(quantityOf(this, "asApproximateFloat"));
    }),
    celMethod("add", DYN, [DYN], DYN, function (other) {
      return toCel(addQuantities(quantityOf(this, "add"), operand(other, "add")));
    }),
    celMethod("sub", DYN, [DYN], DYN, function (other) {
      return toCel(subtractQuantities(quantityOf(this, "sub"), operand(other, "sub")));
    }),
  ];
  const compare = (target: CelValue, other: CelValue, method: string): number | undefined => {
    if (opaqueValue("quantity", target) === undefined) return undefined;
    return compareQuantities(quantityOf(target, method), quantityOf(other, method));
  };
  return { functions, compare };
}
