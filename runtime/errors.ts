// Typed errors shared by the runtime and the controllers.

/** An error a reconcile cannot fix by retrying (bad input, a missing permission the user must grant). */
export class TerminalError extends Error {
  override name = "TerminalError";
}

/** A failed call to a Kubernetes API server, typed by HTTP status and the Status object's reason. */
export class KubeApiError extends Error {
  override name = "KubeApiError";
  readonly status: number;
  /** The `reason` of the returned metav1.Status (NotFound, AlreadyExists, Conflict, Invalid, Expired, ...). */
  readonly reason: string;
  /** The returned Status object's `details`, when present (field causes for Invalid). */
  readonly details: unknown;

  constructor(message: string, status: number, reason: string, details?: unknown, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.reason = reason;
    this.details = details;
  }

  get notFound(): boolean {
    return this.status === 404;
  }
  get conflict(): boolean {
    return this.status === 409 && this.reason !== "AlreadyExists";
  }
  get alreadyExists(): boolean {
    return this.reason === "AlreadyExists";
  }
  /** 403: the caller's RBAC does not allow the request. */
  get forbidden(): boolean {
    return this.status === 403;
  }
  /** 401: the credentials were not accepted (an expired or revoked token). */
  get unauthorized(): boolean {
    return this.status === 401;
  }
  /** 410 Gone: a watch or list asked for a resourceVersion that etcd has compacted away. */
  get gone(): boolean {
    return this.status === 410;
  }
}

export function isKubeApiError(error: unknown, status?: number): error is KubeApiError {
  return error instanceof KubeApiError && (status === undefined || error.status === status);
}
