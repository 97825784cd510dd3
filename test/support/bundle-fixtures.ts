// Bundles of manifests for the bundle tests and benchmark: a CRD and custom resources of it, a
// namespace, RBAC and as many ConfigMaps as it takes to reach a size, with payloads that
// compress about as little as real certificates and keys do, so that the bundle needs several
// content objects.
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Manifest } from "../../api/types/work.ts";
import { totalManifestSize } from "../../controllers/work/manifest.ts";
import { testCrd } from "./test-crd.ts";

/** `bytes` characters of base64 that barely compress, the same for the same seed. */
export function noise(seed: string, bytes: number): string {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const part = createHash("sha256").update(`${seed}:${i}`).digest("base64");
    parts.push(part);
    length += part.length;
  }
  return parts.join("").slice(0, bytes);
}

export interface BundleOptions {
  /** The namespace the bundle's namespaced objects go to (created by the bundle). */
  namespace: string;
  /** Roughly how many manifest bytes (as OCM counts them) the bundle has. */
  bytes: number;
  /** Custom resources of the bundle's CRD. */
  customResources?: number;
  /** Payload bytes per ConfigMap. */
  configMapBytes?: number;
  /** Changes every payload (a new version of the bundle). */
  version?: string;
}

/** The kind of the bundle's CRD, in group test.bosun.io. */
export const bundleKind = { kind: "Widget", plural: "widgets", apiVersion: "test.bosun.io/v1" } as const;

/** A CRD, a Namespace, RBAC, custom resources and ConfigMaps: about `bytes` of manifests. */
export function bundleManifests(options: BundleOptions): Manifest[] {
  const { namespace } = options;
  const version = options.version ?? "1";
  const head: Manifest[] = [
    testCrd(bundleKind.kind, bundleKind.plural),
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "bundle-reader", namespace } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "bundle-reader", namespace },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "bundle-reader", namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "bundle-reader" },
      subjects: [{ kind: "ServiceAccount", name: "bundle-reader", namespace }],
    },
    ...Array.from({ length: options.customResources ?? 20 }, (_, i) => ({
      apiVersion: bundleKind.apiVersion,
      kind: bundleKind.kind,
      metadata: { name: `widget-${String(i).padStart(3, "0")}`, namespace },
      spec: { size: i, version },
    })),
  ];
  const payload = options.configMapBytes ?? 40_000;
  const configMaps: Manifest[] = [];
  let total = totalManifestSize(head);
  for (let i = 0; total < options.bytes; i++) {
    const configMap: Manifest = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `data-${String(i).padStart(5, "0")}`, namespace },
      data: { version, payload: noise(`${version}:${i}`, payload) },
    };
    configMaps.push(configMap);
    total += totalManifestSize([configMap]);
  }
  return [...head, ...configMaps];
}

/** Writes the manifests as multi-document YAML files of `perFile` each; returns their paths. */
export async function writeBundleFiles(
  dir: string,
  manifests: readonly Manifest[],
  perFile = 40,
): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < manifests.length; i += perFile) {
    const file = join(dir, `${String(files.length).padStart(3, "0")}.yaml`);
    const documents = manifests
      .slice(i, i + perFile)
      .map((manifest) => stringify(manifest, { lineWidth: 0 }));
    await writeFile(file, documents.join("---\n"));
    files.push(file);
  }
  return files;
}
