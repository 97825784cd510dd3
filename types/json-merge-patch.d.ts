// The package ships no type declarations; these cover the functions bosun calls.
declare module "json-merge-patch" {
  /** The RFC 7386 merge patch that turns `before` into `after`, or undefined when they are equal. */
  export function generate(before: unknown, after: unknown): unknown;
  export function apply(target: unknown, patch: unknown): unknown;
  export function merge(patch1: unknown, patch2: unknown): unknown;
}
