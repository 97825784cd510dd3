// What the agent does when the bootstrap kubeconfig secret changes under a running connection:
// as OCM's agent restarts, it stops the connection and joins again with the new kubeconfig. The
// join keeps the stored certificate when it is valid for the hub the new kubeconfig names, and
// bootstraps again only when it is not (another hub, or another CA).
import { hubEndpoint, sameEndpoint, type HubEndpoint } from "./kubeconfig.ts";

export type BootstrapChange =
  | { rejoin: false; reason: string }
  | {
      rejoin: true;
      /** The new kubeconfig names the hub the current certificate is for, so the join can keep it. */
      sameHub: boolean;
    };

/**
 * `joinedWith` is the bootstrap kubeconfig the running connection was joined with (undefined
 * when there was none), `current` the secret's content now, `connected` the hub in use.
 */
export function judgeBootstrapChange(
  joinedWith: string | undefined,
  current: string | undefined,
  connected: HubEndpoint,
): BootstrapChange {
  if (current === joinedWith) return { rejoin: false, reason: "unchanged" };
  // Without a usable kubeconfig a join could only fail; the certificate in use keeps working.
  if (current === undefined) return { rejoin: false, reason: "the bootstrap kubeconfig was removed" };
  let endpoint: HubEndpoint;
  try {
    endpoint = hubEndpoint(current);
  } catch (error) {
    return { rejoin: false, reason: `the new bootstrap kubeconfig is unusable: ${(error as Error).message}` };
  }
  return { rejoin: true, sameHub: sameEndpoint(endpoint, connected) };
}
