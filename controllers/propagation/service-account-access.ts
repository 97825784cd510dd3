// Hub-template reads with a service account's rights (`spec.hubTemplateOptions.serviceAccountName`):
// as OCM's propagator does, a token for the account (in the root policy's namespace) comes from
// the TokenRequest API, valid two hours and renewed at a random moment five to ten minutes
// before it expires; the reads go through informers of a client that carries only that token, so
// the API server's RBAC for the account decides what the templates may see, and a change to
// what they read resolves them again. One client and informer set per account, shared by the
// roots that name it, stopped when the last of them lets go.
import type { Logger } from "pino";
import type { Clock, TimerHandle } from "../../runtime/clock.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { InformerFactory } from "../../runtime/informer-factory.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import {
  serviceAccountMissingMessage,
  serviceAccountSetupFailedMessage,
} from "../../policies/hub-templates.ts";

/** OCM's token lifetime and renewal window for hub-template service accounts. */
export const serviceAccountToken = {
  expirationSeconds: 7200,
  refreshMinMinutes: 5,
  refreshMaxMinutes: 10,
} as const;

/** A client authenticated as the service account, closed when the access is let go. */
export type TokenClient = KubeApi & { close(): void };

/** The account's access could not be set up; `missing` when the account does not exist. */
export class ServiceAccountAccessError extends Error {
  override name = "ServiceAccountAccessError";
  readonly missing: boolean;

  constructor(message: string, missing: boolean, options?: ErrorOptions) {
    super(message, options);
    this.missing = missing;
  }
}

export interface ServiceAccountAccessOptions {
  /** The hub's own client: mints the tokens. */
  client: KubeApi;
  /** A client of the same API server carrying only `token`. */
  clientWithToken: (token: string) => TokenClient;
  clock: Clock;
  logger: Logger;
  random?: () => number;
  /** Called with the roots that used an account whose token could not be renewed, or was. */
  onRenewed: (roots: ReadonlySet<string>) => void;
}

interface Access {
  client: TokenClient;
  informers: InformerFactory;
  /** Roots whose last resolution used this account. */
  roots: Set<string>;
  /** The token's renewal timer, once scheduled. */
  renewal?: TimerHandle;
}

/** `namespace/name` of an account. */
function accountKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class ServiceAccountAccess {
  readonly #options: ServiceAccountAccessOptions;
  readonly #random: () => number;
  readonly #accounts = new Map<string, Access>();
  /** Setups in flight, so that roots resolving side by side mint one token. */
  readonly #pending = new Map<string, Promise<Access>>();

  constructor(options: ServiceAccountAccessOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  /**
   * The informers that read as the account, for `root`; sets the access up on first use.
   * Throws ServiceAccountAccessError with OCM's message when it cannot be set up.
   */
  async informersFor(namespace: string, name: string, root: string): Promise<InformerFactory> {
    const key = accountKey(namespace, name);
    let access = this.#accounts.get(key);
    if (!access) {
      let pending = this.#pending.get(key);
      if (!pending) {
        pending = this.#setUp(namespace, name).finally(() => this.#pending.delete(key));
        this.#pending.set(key, pending);
      }
      access = await pending;
    }
    for (const [other, held] of this.#accounts) if (other !== key) this.#drop(other, held, root);
    access.roots.add(root);
    return access.informers;
  }

  /** `root` no longer reads as any account; an account nobody reads as is stopped. */
  release(root: string): void {
    for (const [key, access] of this.#accounts) this.#drop(key, access, root);
  }

  /** The account each key is for, with the number of roots that use it; for diagnostics. */
  get accounts(): ReadonlyMap<string, number> {
    return new Map([...this.#accounts].map(([key, access]) => [key, access.roots.size]));
  }

  async stop(): Promise<void> {
    const all = [...this.#accounts.values()];
    this.#accounts.clear();
    await Promise.all(all.map((access) => this.#close(access)));
  }

  #drop(key: string, access: Access, root: string): void {
    if (!access.roots.delete(root) || access.roots.size > 0) return;
    this.#accounts.delete(key);
    void this.#closeLogged(key, access);
    this.#options.logger.debug({ serviceAccount: key }, "no policy reads as this service account any more");
  }

  /** Closes an access nobody waits for; a failure to stop its informers is only logged. */
  async #closeLogged(key: string, access: Access): Promise<void> {
    try {
      await this.#close(access);
    } catch (error) {
      this.#options.logger.warn(
        { err: error, serviceAccount: key },
        "stopping a service account's informers failed",
      );
    }
  }

  async #close(access: Access): Promise<void> {
    if ("renewal" in access) this.#options.clock.clearTimeout(access.renewal);
    await access.informers.stop();
    access.client.close();
  }

  async #setUp(namespace: string, name: string): Promise<Access> {
    const { token, expiresAtMs } = await this.#mint(namespace, name);
    const client = this.#options.clientWithToken(token);
    const informers = new InformerFactory({ client, logger: this.#options.logger });
    informers.start();
    const access: Access = { client, informers, roots: new Set() };
    this.#accounts.set(accountKey(namespace, name), access);
    this.#scheduleRenewal(namespace, name, access, expiresAtMs);
    return access;
  }

  async #mint(namespace: string, name: string): Promise<{ token: string; expiresAtMs: number }> {
    try {
      const answer = await this.#options.client.request<{
        status?: { token?: string; expirationTimestamp?: string };
      }>({
        method: "POST",
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}/token`,
        body: {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenRequest",
          spec: { expirationSeconds: serviceAccountToken.expirationSeconds },
        },
      });
      const token = answer.status?.token;
      if (!token) throw new Error("the TokenRequest answer carries no token");
      const expiresAtMs =
        Date.parse(answer.status?.expirationTimestamp ?? "") ||
        this.#options.clock.now() + serviceAccountToken.expirationSeconds * 1000;
      return { token, expiresAtMs };
    } catch (error) {
      if (error instanceof KubeApiError && error.notFound)
        throw new ServiceAccountAccessError(serviceAccountMissingMessage(namespace, name), true, {
          cause: error,
        });
      const reason = error instanceof Error ? error.message : String(error);
      throw new ServiceAccountAccessError(serviceAccountSetupFailedMessage(namespace, name, reason), false, {
        cause: error,
      });
    }
  }

  /** Renews the token between ten and five minutes before it expires, then swaps the client. */
  #scheduleRenewal(namespace: string, name: string, access: Access, expiresAtMs: number): void {
    const { refreshMinMinutes, refreshMaxMinutes } = serviceAccountToken;
    const aheadMs = (refreshMinMinutes + (refreshMaxMinutes - refreshMinMinutes) * this.#random()) * 60_000;
    const delayMs = Math.max(0, expiresAtMs - aheadMs - this.#options.clock.now());
    access.renewal = this.#options.clock.setTimeout(() => {
      void this.#renew(namespace, name, access);
    }, delayMs);
  }

  async #renew(namespace: string, name: string, old: Access): Promise<void> {
    const key = accountKey(namespace, name);
    if (this.#accounts.get(key) !== old) return;
    // Either way the roots resolve again: with the new token's informers, or to OCM's message
    // when the account is gone (no retry here, as OCM: the next resolution sets it up anew).
    this.#accounts.delete(key);
    const roots = new Set(old.roots);
    await this.#closeLogged(key, old);
    this.#options.logger.info({ serviceAccount: key }, "renewing the hub-template service account's token");
    this.#options.onRenewed(roots);
  }
}
