// The ManifestWork admission webhook's decision, as OCM's work webhook makes it: an
// AdmissionReview in, an AdmissionReview out. The only I/O is the SubjectAccessReview for a
// changed executor, passed in as a function so the decision stays testable with tables.
import { Resources } from "../../api/constants.ts";
import type { ManifestWork, ManifestWorkReplicaSet } from "../../api/types/work.ts";
import {
  admissionMessage,
  executorAccessReview,
  executorDeniedMessage,
  validateManifestWork,
  validateManifestWorkReplicaSet,
  type ExecutorAccessReview,
} from "./validate.ts";

export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  operation?: "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
  userInfo?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  object?: unknown;
  oldObject?: unknown;
}

export interface AdmissionReview {
  apiVersion: "admission.k8s.io/v1";
  kind: "AdmissionReview";
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
}

export interface AdmissionOptions {
  /** The limit on a ManifestWork's summed manifest size, in bytes. */
  manifestLimitBytes: number;
  /** Whether the requesting user may `execute-as` the executor (a SubjectAccessReview). */
  mayExecuteAs(
    review: ExecutorAccessReview,
    user: NonNullable<AdmissionRequest["userInfo"]>,
  ): Promise<boolean>;
}

function deny(uid: string, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { code: 400, reason: "BadRequest", message } };
}

/** Validates one admission request for a ManifestWork or a ManifestWorkReplicaSet. */
export async function reviewAdmission(review: unknown, options: AdmissionOptions): Promise<AdmissionReview> {
  const request = (review as AdmissionReview | undefined)?.request;
  const answer = (response: AdmissionResponse): AdmissionReview => ({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    response,
  });
  if (!request || typeof request.uid !== "string") {
    return answer(deny("", "the body is not an admission.k8s.io/v1 AdmissionReview with a request"));
  }
  const { uid } = request;
  if (request.operation !== "CREATE" && request.operation !== "UPDATE") return answer({ uid, allowed: true });
  const kind = request.kind?.kind;
  if (kind === Resources.ManifestWork.kind) {
    const work = request.object as ManifestWork;
    const message = admissionMessage(validateManifestWork(work, { limitBytes: options.manifestLimitBytes }));
    if (message !== undefined) return answer(deny(uid, message));
    const accessReview = executorAccessReview(work, request.oldObject as ManifestWork | undefined);
    if (accessReview && request.userInfo && !(await options.mayExecuteAs(accessReview, request.userInfo))) {
      return answer(deny(uid, executorDeniedMessage(request.userInfo.username ?? "", accessReview)));
    }
    return answer({ uid, allowed: true });
  }
  if (kind === Resources.ManifestWorkReplicaSet.kind) {
    // bosun splits oversized templates into several works, so a replica set is not held to the
    // per-work size limit here: a single manifest over it is reported on the replica set.
    const set = request.object as ManifestWorkReplicaSet;
    const message = admissionMessage(
      validateManifestWorkReplicaSet(set, { limitBytes: Number.MAX_SAFE_INTEGER }),
    );
    return answer(message === undefined ? { uid, allowed: true } : deny(uid, message));
  }
  return answer({ uid, allowed: true });
}
