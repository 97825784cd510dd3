// Where the CRDs and the objects of the CRD compatibility test come from, and how they go onto a
// hub: OCM's own CRDs of the oracle release (open-cluster-management.io/api at that version, as
// the Go module cache holds it), the policy CRDs (not in that module: OCM's governance CRDs from
// the corpus when it is there, bosun's otherwise), bosun's crds/, and the objects to try under
// both: every corpus document of a kind the CRDs define, with the ConfigurationPolicies the
// Policies carry, and generated fleets and Placements.
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parse, parseAllDocuments } from "yaml";
import { applyServerSide } from "../../../runtime/apply.ts";
import { readCrds } from "../../../runtime/crds.ts";
import { KubeApiError } from "../../../runtime/errors.ts";
import type { KubeClient } from "../../../runtime/kube/client.ts";
import type { Unstructured } from "../../../runtime/kube/types.ts";
import { yamlFilesUnder } from "../../support/corpus.ts";
import { generateRound } from "../fleet-generator.ts";
import type { Crd } from "./crd-schema.ts";

/** The folders of open-cluster-management.io/api whose CRDs bosun serves. */
const apiFolders = [
  "cluster/v1",
  "cluster/v1alpha1",
  "cluster/v1beta1",
  "cluster/v1beta2",
  "work/v1",
  "work/v1alpha1",
];

async function crdsIn(dir: string, matches: (file: string) => boolean): Promise<Crd[]> {
  const files = (await readdir(dir)).filter(matches).sort();
  return Promise.all(files.map(async (f) => parse(await readFile(join(dir, f), "utf8")) as Crd));
}

export interface OcmCrds {
  crds: Crd[];
  /** Where the policy CRDs came from. */
  policySource: "corpus" | "bosun";
}

/** OCM's cluster and work CRDs from the API module, and the policy CRDs (see the header). */
export async function ocmCrds(apiModuleDir: string, corpus: string | undefined): Promise<OcmCrds> {
  const crds: Crd[] = [];
  for (const folder of apiFolders)
    crds.push(...(await crdsIn(join(apiModuleDir, folder), (f) => f.endsWith(".crd.yaml"))));
  if (corpus) {
    crds.push(
      ...(await crdsIn(join(corpus, "ocm-crds"), (f) => f.startsWith("policy.") && f.endsWith(".yaml"))),
    );
    return { crds, policySource: "corpus" };
  }
  const ours = await bosunCrds();
  crds.push(...ours.filter((c) => c.spec.group === "policy.open-cluster-management.io"));
  return { crds, policySource: "bosun" };
}

/** bosun's CRDs of both sides, once each. */
export async function bosunCrds(): Promise<Crd[]> {
  const byName = new Map<string, Crd>();
  for (const side of ["hub", "managed"] as const) {
    for (const crd of await readCrds(side)) byName.set(crd.metadata.name ?? "", crd as unknown as Crd);
  }
  return [...byName.values()];
}

/** Applies CRDs and returns once every served version of each can be listed. */
export async function installCrdDocuments(
  client: KubeClient,
  crds: readonly Crd[],
  timeoutMs = 60_000,
): Promise<void> {
  for (const crd of crds) {
    await applyServerSide(client, crd as unknown as Unstructured, {
      fieldManager: "bosun-compat",
      force: true,
    });
  }
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    for (const version of crd.spec.versions.filter((v) => v.served)) {
      const apiVersion = `${crd.spec.group}/${version.name}`;
      for (;;) {
        try {
          client.discovery.invalidate(apiVersion);
          await client.list(apiVersion, crd.spec.names.kind, { limit: 1 });
          break;
        } catch (error) {
          if (Date.now() > deadline)
            throw new Error(`${crd.metadata.name} ${version.name} is not served`, { cause: error });
          await sleep(200);
        }
      }
    }
  }
}

/** The apiVersion/kind pairs a set of CRDs serves. */
export function servedKinds(crds: readonly Crd[]): Set<string> {
  return new Set(
    crds.flatMap((c) =>
      c.spec.versions.filter((v) => v.served).map((v) => `${c.spec.group}/${v.name}/${c.spec.names.kind}`),
    ),
  );
}

export interface CandidateObject {
  /** Where it comes from, for the report. */
  where: string;
  object: Unstructured;
}

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const corpusNamespace = "compat-corpus";

/**
 * Every document of the corpus's policy collection whose kind `served` holds, and every
 * ConfigurationPolicy a Policy carries (in the policy's namespace, as it is on a cluster).
 */
export async function corpusObjects(corpus: string, served: ReadonlySet<string>): Promise<CandidateObject[]> {
  const out: CandidateObject[] = [];
  const isServed = (o: Unstructured) => served.has(`${o.apiVersion}/${o.kind}`);
  for (const file of yamlFilesUnder(join(corpus, "policy-collection"))) {
    const where = relative(corpus, file);
    const documents = parseAllDocuments(await readFile(file, "utf8"));
    for (const [i, document] of documents.entries()) {
      const object = document.toJS() as Unstructured | null;
      if (!object || typeof object !== "object" || !object.kind || !isServed(object)) continue;
      const namespaced = {
        ...object,
        metadata: { ...object.metadata, namespace: object.metadata?.namespace ?? corpusNamespace },
      };
      out.push({ where: `${where}#${i} ${object.kind} ${object.metadata?.name ?? ""}`, object: namespaced });
      if (object.kind !== "Policy") continue;
      const templates = (
        object.spec as { "policy-templates"?: { objectDefinition?: Unstructured }[] } | undefined
      )?.["policy-templates"];
      for (const [j, template] of (templates ?? []).entries()) {
        const definition = template.objectDefinition;
        if (!definition?.kind || !isServed(definition)) continue;
        const name = definition.metadata?.name ?? "";
        out.push({
          where: `${where}#${i} ${object.kind} ${object.metadata?.name ?? ""} template ${j}`,
          object: {
            ...definition,
            metadata: {
              ...definition.metadata,
              name: dns1123Subdomain.test(name) ? name : `template-${j}`,
              namespace: namespaced.metadata.namespace,
            },
          },
        });
      }
    }
  }
  return out;
}

/** The objects of a few generated rounds (status is not part of a create, so it is left out). */
export function generatedObjects(seeds: readonly number[], now: number): CandidateObject[] {
  const out: CandidateObject[] = [];
  for (const seed of seeds) {
    const round = generateRound(seed, now);
    const objects: Unstructured[] = [
      ...round.fleet.clusters,
      ...round.clusterSets,
      ...round.bindings,
      ...round.fleet.scores,
      ...round.ghostDecisions,
      ...round.placements.flatMap((p) => [
        p.placement,
        ...(p.followUp ? [{ ...p.placement, spec: p.followUp }] : []),
      ]),
    ].map((o) => {
      const { status: _status, ...object } = o as Unstructured;
      const { deletionTimestamp: _deleting, ...metadata } = object.metadata;
      return { ...object, metadata };
    });
    for (const object of objects) {
      out.push({
        where: `seed ${seed} ${object.kind} ${object.metadata.namespace ?? ""}/${object.metadata.name}`,
        object,
      });
    }
  }
  return out;
}

export type DryRun =
  { accepted: true; stored: Unstructured } | { accepted: false; status: number; message: string };

/** Creates `object` with dryRun=All and strict field validation: what the API server would store, or why not. */
export async function dryRunCreate(client: KubeClient, object: Unstructured): Promise<DryRun> {
  try {
    const path = await client.path({
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.metadata.namespace,
    });
    const stored = await client.request<Unstructured>({
      method: "POST",
      path,
      body: object,
      query: { dryRun: "All", fieldValidation: "Strict" },
    });
    return { accepted: true, stored };
  } catch (error) {
    if (error instanceof KubeApiError)
      return { accepted: false, status: error.status, message: error.message };
    throw error;
  }
}

/** Paths where two stored versions of the same object differ, metadata aside (defaults, pruning). */
export function storedDifferences(a: unknown, b: unknown, path = ""): string[] {
  if (Array.isArray(a) && Array.isArray(b)) {
    return Array.from({ length: Math.max(a.length, b.length) }, (_, i) =>
      storedDifferences(a[i], b[i], `${path}[${i}]`),
    ).flat();
  }
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
      (k) => !(path === "" && k === "metadata"),
    );
    return keys.flatMap((k) =>
      storedDifferences(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        path ? `${path}.${k}` : k,
      ),
    );
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
}
