// The AppliedManifestWork: the managed-cluster record of one hub ManifestWork, named after a
// hash of the hub's API server URL so that works of different hubs never collide.
import { createHash } from "node:crypto";
import { Finalizers, Resources } from "../../api/constants.ts";
import type { ObjectMeta } from "../../api/types/meta.ts";
import type { AppliedManifestWork, AppliedManifestWorkSpec } from "../../api/types/work.ts";

/** The hex SHA-256 (64 characters) of the hub's API server URL, exactly as configured. */
export function hubHash(hubApiServerUrl: string): string {
  return createHash("sha256").update(hubApiServerUrl, "utf8").digest("hex");
}

/** `<hubHash>-<workName>`. */
export function appliedManifestWorkName(hash: string, workName: string): string {
  return `${hash}-${workName}`;
}

/**
 * The ManifestWork an AppliedManifestWork name stands for; undefined when the name does not
 * start with `<hubHash>-`, i.e. it belongs to another hub.
 */
export function workNameOf(appliedName: string, hash: string): string | undefined {
  const prefix = `${hash}-`;
  return appliedName.startsWith(prefix) && appliedName.length > prefix.length
    ? appliedName.slice(prefix.length)
    : undefined;
}

export interface DesiredAppliedManifestWorkInput {
  hubHash: string;
  agentID: string;
  work: { metadata: Pick<ObjectMeta, "name" | "labels"> };
}

/**
 * The AppliedManifestWork the agent creates for a work: cluster-scoped, named
 * `<hubHash>-<workName>`, with the cleanup finalizer, the work's labels and
 * `spec {hubHash, agentID, manifestWorkName}`.
 */
export function desiredAppliedManifestWork(input: DesiredAppliedManifestWorkInput): AppliedManifestWork {
  const workName = input.work.metadata.name ?? "";
  const metadata: ObjectMeta = {
    name: appliedManifestWorkName(input.hubHash, workName),
    finalizers: [Finalizers.appliedManifestWorkCleanup],
  };
  const labels = input.work.metadata.labels;
  if (labels && Object.keys(labels).length > 0) metadata.labels = { ...labels };
  return {
    apiVersion: Resources.AppliedManifestWork.apiVersion as AppliedManifestWork["apiVersion"],
    kind: Resources.AppliedManifestWork.kind,
    metadata,
    spec: { hubHash: input.hubHash, agentID: input.agentID, manifestWorkName: workName },
  };
}

/**
 * The spec to write on an existing AppliedManifestWork, or undefined when it already matches.
 * Only the spec of an existing AppliedManifestWork is kept in line: labels and finalizers are
 * set when it is created.
 */
export function appliedManifestWorkSpecUpdate(
  existing: Pick<AppliedManifestWork, "spec">,
  desired: Pick<AppliedManifestWork, "spec">,
): AppliedManifestWorkSpec | undefined {
  const want = desired.spec;
  if (!want) return undefined;
  const have = existing.spec;
  if (
    have &&
    have.hubHash === want.hubHash &&
    (have.agentID ?? "") === (want.agentID ?? "") &&
    have.manifestWorkName === want.manifestWorkName
  ) {
    return undefined;
  }
  return { ...want };
}
