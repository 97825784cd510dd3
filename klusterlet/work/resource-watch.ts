// Watches what the works applied, so that an edit or a delete on the managed cluster brings the
// work back within seconds: one informer per (apiVersion, kind, namespace) that some work
// applied, made through one InformerFactory as works need them, and a map from each object's
// identity to the works that carry it, so that an event wakes only those works.
import type { InformerFactory } from "../../runtime/informer-factory.ts";
import type { KubeObject } from "../../runtime/kube/types.ts";
import type { WatchTarget } from "./applier.ts";

function identity(group: string, kind: string, namespace: string | undefined, name: string): string {
  return JSON.stringify([group, kind, namespace ?? "", name]);
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

export interface ResourceWatchOptions {
  informers: InformerFactory;
  /** Called with the key of each work that carries an object that changed. */
  onChange: (workKey: string) => void;
}

export class ResourceWatch {
  readonly #options: ResourceWatchOptions;
  /** Object identity → keys of the works that applied it. */
  readonly #works = new Map<string, Set<string>>();
  /** Work key → identities it carries now. */
  readonly #byWork = new Map<string, Set<string>>();
  /** Informer keys already given a handler. */
  readonly #watched = new Set<string>();

  constructor(options: ResourceWatchOptions) {
    this.#options = options;
  }

  /** How many (apiVersion, kind, namespace) informers are running. */
  get watchedTypes(): number {
    return this.#watched.size;
  }

  /** The works that carry an object (for tests and diagnostics). */
  worksOf(target: Pick<WatchTarget, "group" | "kind" | "namespace" | "name">): string[] {
    return [...(this.#works.get(identity(target.group, target.kind, target.namespace, target.name)) ?? [])];
  }

  /** Records the objects a work carries now, replacing what it carried before. */
  track(workKey: string, targets: readonly WatchTarget[]): void {
    const next = new Set<string>();
    for (const target of targets) {
      const id = identity(target.group, target.kind, target.namespace, target.name);
      next.add(id);
      let works = this.#works.get(id);
      if (!works) {
        works = new Set();
        this.#works.set(id, works);
      }
      works.add(workKey);
      this.#ensureInformer(target);
    }
    for (const id of this.#byWork.get(workKey) ?? []) {
      if (!next.has(id)) this.#unlink(id, workKey);
    }
    if (next.size > 0) this.#byWork.set(workKey, next);
    else this.#byWork.delete(workKey);
  }

  forget(workKey: string): void {
    this.track(workKey, []);
  }

  #unlink(id: string, workKey: string): void {
    const works = this.#works.get(id);
    works?.delete(workKey);
    if (works && works.size === 0) this.#works.delete(id);
  }

  #ensureInformer(target: WatchTarget): void {
    const scope = target.namespace ? { namespace: target.namespace } : {};
    const key = JSON.stringify([target.apiVersion, target.kind, target.namespace ?? ""]);
    if (this.#watched.has(key)) return;
    this.#watched.add(key);
    const informer = this.#options.informers.informer<KubeObject>(
      { apiVersion: target.apiVersion, kind: target.kind },
      scope,
    );
    const group = groupOf(target.apiVersion);
    const changed = (object: KubeObject) => {
      const id = identity(
        group,
        target.kind,
        object.metadata.namespace || target.namespace,
        object.metadata.name ?? "",
      );
      for (const work of this.#works.get(id) ?? []) this.#options.onChange(work);
    };
    informer.addHandlers({
      onAdd: changed,
      onUpdate: (_previous, current) => changed(current),
      onDelete: changed,
    });
  }
}
