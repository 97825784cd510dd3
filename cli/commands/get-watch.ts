// `bosun get ... --watch`: print the list, then one row (or one document) for each object
// whose printed form changes, until interrupted. The views are pure: given the objects as
// they are now, they say what to print; the loop below feeds them from informers.
import type { Logger } from "pino";
import { Resources } from "../../api/constants.ts";
import type { ManagedCluster, ManagedClusterSetBinding } from "../../api/types/cluster.ts";
import type { KubeObject } from "../../api/types/meta.ts";
import { Informer } from "../../runtime/informer.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import { objectKey } from "../../runtime/kube/types.ts";
import {
  byNamespaceAndName,
  clockCells,
  columnWidths,
  formatRow,
  headersOf,
  noneFound,
  rowContext,
  rowOf,
  structured,
  withoutManagedFields,
  type GetRequest,
  type Output,
  type RowContext,
  type TableOptions,
  type TableSpec,
} from "./get-tables.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface Change<V> {
  type: WatchEventType;
  key: string;
  /** The new value; for DELETED, the last one. */
  value: V;
}

/**
 * What changed from `previous` to `next`: keys that appeared (ADDED), whose value differs by
 * `same` (MODIFIED) and that disappeared (DELETED), in key order.
 */
export function changesBetween<V>(
  previous: ReadonlyMap<string, V>,
  next: ReadonlyMap<string, V>,
  same: (a: V, b: V) => boolean,
): Change<V>[] {
  const changes: Change<V>[] = [];
  for (const key of new Set([...previous.keys(), ...next.keys()])) {
    const before = previous.get(key);
    const after = next.get(key);
    if (before === undefined && after !== undefined) changes.push({ type: "ADDED", key, value: after });
    else if (before !== undefined && after === undefined)
      changes.push({ type: "DELETED", key, value: before });
    else if (before !== undefined && after !== undefined && !same(before, after))
      changes.push({ type: "MODIFIED", key, value: after });
  }
  return changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** What a watch prints: the first listing, then the lines for each later state. */
export interface WatchView<T extends KubeObject> {
  /** The text of the first listing; empty when there are no objects. */
  start(objects: readonly T[], context: RowContext): string;
  /** Lines to print for the objects as they are now (nothing when nothing visible changed). */
  update(objects: readonly T[], context: RowContext): string[];
}

function keyed<T extends KubeObject, V>(objects: readonly T[], value: (object: T) => V): Map<string, V> {
  return new Map([...objects].sort(byNamespaceAndName).map((object) => [objectKey(object), value(object)]));
}

/**
 * Table rows. Later rows are padded to the first listing's column widths, as far as they fit;
 * a row is printed again only when a cell other than AGE changed.
 */
export class TableWatch<T extends KubeObject> implements WatchView<T> {
  readonly #spec: TableSpec<T>;
  readonly #options: TableOptions;
  readonly #events: boolean;
  readonly #clock: boolean[];
  #widths: number[] = [];
  #headerPrinted = false;
  #rows = new Map<string, string[]>();

  constructor(spec: TableSpec<T>, options: TableOptions, events: boolean) {
    this.#spec = spec;
    this.#options = options;
    this.#events = events;
    this.#clock = clockCells(spec, options);
  }

  #headers(): string[] {
    const headers = headersOf(this.#spec, this.#options);
    return this.#events ? ["EVENT", ...headers] : headers;
  }

  #line(type: WatchEventType, cells: string[]): string {
    return formatRow(this.#events ? [type, ...cells] : cells, this.#widths);
  }

  #rowsOf(objects: readonly T[], context: RowContext): Map<string, string[]> {
    return keyed(objects, (object) => rowOf(this.#spec, object, context, this.#options));
  }

  start(objects: readonly T[], context: RowContext): string {
    this.#rows = this.#rowsOf(objects, context);
    const rows = [...this.#rows.values()];
    this.#widths = columnWidths(this.#headers(), this.#events ? rows.map((row) => ["ADDED", ...row]) : rows);
    if (rows.length === 0) return "";
    this.#headerPrinted = true;
    return [formatRow(this.#headers(), this.#widths), ...rows.map((row) => this.#line("ADDED", row))].join(
      "\n",
    );
  }

  update(objects: readonly T[], context: RowContext): string[] {
    const next = this.#rowsOf(objects, context);
    const same = (a: string[], b: string[]) =>
      a.length === b.length && a.every((cell, index) => this.#clock[index] || cell === b[index]);
    const lines = changesBetween(this.#rows, next, same).map((change) =>
      this.#line(change.type, change.value),
    );
    this.#rows = next;
    if (lines.length > 0 && !this.#headerPrinted) {
      this.#headerPrinted = true;
      lines.unshift(formatRow(this.#headers(), this.#widths));
    }
    return lines;
  }
}

/**
 * YAML or JSON: one document per object, first for each listed object, then for each new
 * resourceVersion. With events, each document is `{type, object}` as the watch API sends it.
 */
export class DocumentWatch<T extends KubeObject> implements WatchView<T> {
  readonly #format: "yaml" | "json";
  readonly #events: boolean;
  #objects = new Map<string, T>();

  constructor(format: "yaml" | "json", events: boolean) {
    this.#format = format;
    this.#events = events;
  }

  #document(type: WatchEventType, object: T): string {
    const text = structured(this.#events ? { type, object } : object, this.#format);
    return this.#format === "yaml" ? `---\n${text}` : text;
  }

  start(objects: readonly T[]): string {
    this.#objects = keyed(objects, withoutManagedFields);
    return [...this.#objects.values()].map((object) => this.#document("ADDED", object)).join("\n");
  }

  update(objects: readonly T[]): string[] {
    const next = keyed(objects, withoutManagedFields);
    const same = (a: T, b: T) => a.metadata.resourceVersion === b.metadata.resourceVersion;
    const documents = changesBetween(this.#objects, next, same).map((change) =>
      this.#document(change.type, change.value),
    );
    this.#objects = next;
    return documents;
  }
}

export function watchView<T extends KubeObject>(
  spec: TableSpec<T>,
  request: Pick<GetRequest, "output" | "watchEvents">,
  options: TableOptions,
): WatchView<T> {
  return request.output === "yaml" || request.output === "json"
    ? new DocumentWatch<T>(request.output, request.watchEvents === true)
    : new TableWatch(spec, options, request.watchEvents === true);
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/**
 * Prints `initial`, then watches the objects (and the related kinds the cells read) through
 * informers and prints what changed, until `signal` aborts.
 */
export async function watchObjects<T extends KubeObject>(
  client: KubeApi,
  spec: TableSpec<T>,
  request: GetRequest,
  tableOptions: TableOptions,
  initial: { objects: readonly T[]; related: Partial<RowContext> },
  output: Output,
  options: { now: () => number; signal: AbortSignal; logger: Logger },
): Promise<void> {
  const view = watchView(spec, request, tableOptions);
  const first = view.start(initial.objects, rowContext(options.now(), initial.related));
  if (first) output.out.write(`${first}\n`);
  else output.err.write(`${noneFound(spec, request.scope.namespace)}\n`);

  const objects = new Informer<T>({
    client,
    apiVersion: spec.apiVersion,
    kind: spec.kind,
    namespace: request.scope.namespace,
    labelSelector: request.labelSelector,
    ...(request.name !== undefined ? { fieldSelector: `metadata.name=${request.name}` } : {}),
    logger: options.logger,
  });
  const clusters = spec.related?.includes("clusters")
    ? new Informer<ManagedCluster>({
        client,
        apiVersion: Resources.ManagedCluster.apiVersion,
        kind: Resources.ManagedCluster.kind,
        logger: options.logger,
      })
    : undefined;
  const bindings = spec.related?.includes("bindings")
    ? new Informer<ManagedClusterSetBinding>({
        client,
        apiVersion: Resources.ManagedClusterSetBinding.apiVersion,
        kind: Resources.ManagedClusterSetBinding.kind,
        logger: options.logger,
      })
    : undefined;
  const informers = [objects, clusters, bindings].filter((informer) => informer !== undefined);

  let synced = false;
  let pending: NodeJS.Timeout | undefined;
  const render = () => {
    pending = undefined;
    const context = rowContext(options.now(), {
      ...(clusters ? { clusters: clusters.list() } : {}),
      ...(bindings ? { bindings: bindings.list() } : {}),
    });
    for (const line of view.update(objects.list(), context)) output.out.write(`${line}\n`);
  };
  // A burst of changes (a rollout touching many objects) is rendered once.
  const schedule = () => {
    if (synced && !options.signal.aborted) pending ??= setTimeout(render, 100);
  };
  for (const informer of informers)
    (informer as Informer<KubeObject>).addHandlers({
      onAdd: schedule,
      onUpdate: schedule,
      onDelete: schedule,
    });
  for (const informer of informers) informer.start();
  try {
    await Promise.all(informers.map((informer) => informer.waitForSync(options.signal)));
    synced = true;
    // Whatever changed between the first listing and the informers' lists.
    render();
    await untilAborted(options.signal);
  } catch (error) {
    if (!options.signal.aborted) throw error;
  } finally {
    clearTimeout(pending);
    await Promise.all(informers.map((informer) => informer.stop()));
  }
}
