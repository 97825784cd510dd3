// What a controller itself just wrote, for the moment before its cache has seen it. A reconcile
// that follows its own write closely (the write's echo and another event race) would otherwise
// compare against the object as it was before the write, write the same change again and fail on
// the stale resourceVersion. The written object stands in for the cached one only while the cache
// still holds exactly the version the write replaced; once the cache moves on (to the write or to
// anything later), the cache is the truth again and the entry is dropped.
import type { KubeObject } from "./kube/types.ts";

interface Entry<T> {
  /** The resourceVersion the write was made from. */
  replaced: string | undefined;
  written: T;
}

export class OwnWrites<T extends KubeObject> {
  readonly #entries = new Map<string, Entry<T>>();

  /** Remembers that `written` replaced `before` (both the whole object). */
  remember(key: string, before: T, written: T): void {
    this.#entries.set(key, { replaced: before.metadata.resourceVersion, written });
  }

  /** The freshest version known of `key`: the own write while the cache lags behind it, else the cached one. */
  latest(key: string, cached: T | undefined): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return cached;
    if (cached && cached.metadata.resourceVersion === entry.replaced) return entry.written;
    this.#entries.delete(key);
    return cached;
  }

  /** Called with every object the cache receives, so entries go once the cache has caught up. */
  observe(key: string, cached: T | undefined): void {
    const entry = this.#entries.get(key);
    if (entry && cached?.metadata.resourceVersion !== entry.replaced) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
