// What the agent last wrote with the Update strategy, per object: the hash of the manifest (and
// its owner) and the resourceVersion the write produced. While both still hold, the object is
// exactly as the agent left it and the manifest has not changed, so the manifest is not compared
// and written again. This is how OCM's agent behaves: the API server fills defaults the manifest
// leaves out (a Job's selector and pod labels), so the comparison would see a difference, and
// the replace would fail on the Job's immutable fields; OCM's agent never gets there for an
// object nobody else touched.
import { createHash } from "node:crypto";
import type { AppliedManifestWorkOwner } from "./owner.ts";
import { goValueString } from "./spec-hash.ts";

interface Entry {
  hash: string;
  resourceVersion: string;
}

/** Entries are dropped all at once when this many objects accumulate. */
const defaultMaxEntries = 50_000;

export class ApplyCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;

  constructor(maxEntries = defaultMaxEntries) {
    this.#maxEntries = maxEntries;
  }

  /** The key of one object on the managed cluster. */
  static key(ref: { apiVersion: string; kind: string; namespace?: string; name: string }): string {
    return `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ""}/${ref.name}`;
  }

  /** The hash of what one write asks for: the manifest and whether (and by whom) it is owned. */
  static hash(manifest: unknown, owner: AppliedManifestWorkOwner, owned: boolean): string {
    return createHash("sha256")
      .update(goValueString({ manifest, owner: owned ? owner.uid : "" }), "utf8")
      .digest("hex");
  }

  get size(): number {
    return this.#entries.size;
  }

  /** True when the agent wrote `hash` and the object still has the resourceVersion it got. */
  unchanged(key: string, hash: string, resourceVersion: string | undefined): boolean {
    const entry = this.#entries.get(key);
    return (
      entry !== undefined &&
      !!resourceVersion &&
      entry.hash === hash &&
      entry.resourceVersion === resourceVersion
    );
  }

  record(key: string, hash: string, resourceVersion: string | undefined): void {
    if (!resourceVersion) {
      this.#entries.delete(key);
      return;
    }
    if (this.#entries.size >= this.#maxEntries && !this.#entries.has(key)) this.#entries.clear();
    this.#entries.set(key, { hash, resourceVersion });
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }
}
