// Hub templates (`{{hub … hub}}`) resolved for one managed cluster, as OCM's propagator does
// before it writes a replicated Policy: only policy templates whose objectDefinition holds the
// hub delimiter are touched; lookups are limited to the root policy's namespace and the
// cluster's own ManagedCluster unless the policy names a hub-template service account;
// `fromSecret`, `copySecretData` and `protect` encrypt with the cluster's AES key and the
// replica's IV. A template that fails keeps its unresolved definition with the error in its
// hub-templates-error annotation. Also the managed-side inverse: decrypting those values.
import { createCipheriv, createDecipheriv } from "node:crypto";
import {
  BosunPolicyEncryptionKeySecret,
  Groups,
  PolicyAnnotations,
  PolicyTemplates,
  Secrets,
} from "../api/constants.ts";
import type { Policy, PolicyTemplate, PolicyTemplateObject } from "../api/types/policy.ts";
import type { ClusterObject, ClusterReader, KindMapping, NamespaceInfo } from "./cluster.ts";
import { isObject, type Json, type JsonObject } from "./gofmt.ts";
import { StructValue } from "./gotemplate-exec.ts";
import { goJson, goStringMap, type LookupRestriction } from "./template-funcs.ts";
import { type Delimiters, resolveTemplate, TemplateResolutionError } from "./templates.ts";

export const hubDelimiters: Delimiters = {
  start: PolicyTemplates.hubDelimiterStart,
  end: PolicyTemplates.hubDelimiterEnd,
};

/** OCM's hub adds this to `indent N`: the depth of an object template in a ConfigurationPolicy. */
const hubAdditionalIndentation = 8;
/** AES block size, the only IV length AES-CBC takes. */
export const ivSize = 16;
/** OCM generates AES-256 keys. */
export const encryptionKeySize = 32;

const managedCluster = { group: Groups.cluster, version: "v1", kind: "ManagedCluster" } as const;
const missingApiResource = "one or more API resources are not installed on the API server";

export interface HubTemplateContext {
  /** The managed cluster (and cluster namespace) the replica is for. */
  cluster: string;
  /** The labels of that cluster's ManagedCluster. */
  clusterLabels: Record<string, string>;
  /** The ROOT policy's metadata (`.PolicyMetadata`). */
  policy: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
}

export interface HubTemplateOptions {
  /** Hub reads. Unless unrestricted, the namespace restriction is enforced here. */
  reader: ClusterReader;
  /**
   * `spec.hubTemplateOptions.serviceAccountName` is set: lookups are not limited, the caller
   * makes the reader answer only what that service account may list and watch.
   */
  unrestricted?: boolean;
  /**
   * The cluster's AES key (Secret policy-encryption-key, data `key`), needed when
   * hubTemplatesNeedEncryption(policy). Without it an encrypting template fails as OCM's does
   * with no key.
   */
  encryptionKey?: Buffer;
  /** The replica's current encryption-iv annotation; reused when valid so output is stable. */
  currentIv?: string;
  /** Random bytes for a new IV. */
  randomBytes: (size: number) => Buffer;
}

/** An object resolution read, or tried to read; watch it and resolve again when it changes. */
export interface HubTemplateRead {
  apiVersion: string;
  kind: string;
  /** "" for cluster-scoped kinds and for lists across all namespaces. */
  namespace: string;
  /** Absent for a list. */
  name?: string;
  labelSelector?: string;
}

export interface HubTemplateError {
  /** Position in spec.policy-templates. */
  index: number;
  /** OCM's text, also written to the template's hub-templates-error annotation. */
  message: string;
  /** A missing API resource: OCM retries these with backoff. */
  retryable: boolean;
}

export interface HubTemplateResult {
  /** spec.policy-templates with hub templates resolved; other fields as given. */
  templates: PolicyTemplate[];
  errors: HubTemplateError[];
  /** Annotations to set on the replica (the encryption IV). */
  annotations: Record<string, string>;
  reads: HubTemplateRead[];
  usesEncryption: boolean;
}

// Go's strconv.ParseBool true values.
const trueValues = new Set(["1", "t", "T", "TRUE", "true", "True"]);

/** The policy carries `disable-templates: "true"` (any spelling Go's ParseBool takes). */
export function templatesDisabled(policy: Pick<Policy, "metadata">): boolean {
  const value = policy.metadata.annotations?.[PolicyAnnotations.disableTemplates];
  return value !== undefined && trueValues.has(value);
}

function templatesOf(policy: Pick<Policy, "spec">): PolicyTemplate[] {
  return policy.spec["policy-templates"] ?? [];
}

function rawOf(template: PolicyTemplate): string {
  return goJson(template.objectDefinition as unknown as Json);
}

function hasHubTemplate(raw: string): boolean {
  return raw.includes(hubDelimiters.start);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const encryptingPattern = new RegExp(
  `${escapeRegExp(hubDelimiters.start)}-?(\\s*fromSecret\\s+.*|\\s*copySecretData\\s+.*|.*\\|\\s*protect\\s*)-?${escapeRegExp(hubDelimiters.end)}`,
);

/** Any policy template holds a hub template. */
export function policyHasHubTemplates(policy: Pick<Policy, "spec">): boolean {
  return templatesOf(policy).some((template) => hasHubTemplate(rawOf(template)));
}

/** Resolution will encrypt: the caller must get (or create) the cluster's key first. */
export function hubTemplatesNeedEncryption(policy: Pick<Policy, "metadata" | "spec">): boolean {
  if (templatesDisabled(policy)) return false;
  return templatesOf(policy).some((template) => {
    const raw = rawOf(template);
    return hasHubTemplate(raw) && encryptingPattern.test(raw);
  });
}

/** Resolution reads the cluster's labels: re-resolve when the ManagedCluster's labels change. */
export function hubTemplatesReadClusterLabels(policy: Pick<Policy, "metadata" | "spec">): boolean {
  if (templatesDisabled(policy)) return false;
  return templatesOf(policy).some((template) => {
    const raw = rawOf(template);
    return hasHubTemplate(raw) && raw.includes("ManagedClusterLabels");
  });
}

/** The template context OCM's propagator passes; Go names its type in error messages. */
class PropagatorContext extends StructValue {
  override readonly typeName = "propagator.templateCtx";
}

function contextValue(context: HubTemplateContext): StructValue {
  return new PropagatorContext(
    {
      ManagedClusterName: context.cluster,
      ManagedClusterLabels: goStringMap(context.clusterLabels),
      PolicyMetadata: {
        annotations: goStringMap(context.policy.annotations),
        labels: goStringMap(context.policy.labels),
        name: context.policy.name,
        namespace: context.policy.namespace,
      },
    },
    {
      ManagedClusterName: "string",
      ManagedClusterLabels: "map[string]string",
      PolicyMetadata: "map[string]interface {}",
    },
  );
}

function apiVersionOf(mapping: KindMapping): string {
  return mapping.group === "" ? mapping.version : `${mapping.group}/${mapping.version}`;
}

/** Passes reads through and notes what was asked for. */
class RecordingReader implements ClusterReader {
  readonly #reader: ClusterReader;
  readonly #reads = new Map<string, HubTemplateRead>();

  constructor(reader: ClusterReader) {
    this.#reader = reader;
  }

  get reads(): HubTemplateRead[] {
    return [...this.#reads.values()];
  }

  note(read: HubTemplateRead): void {
    const key = JSON.stringify([read.apiVersion, read.kind, read.namespace, read.name, read.labelSelector]);
    if (!this.#reads.has(key)) this.#reads.set(key, read);
  }

  resolveKind(apiVersion: string, kind: string): KindMapping | undefined {
    return this.#reader.resolveKind(apiVersion, kind);
  }

  get(mapping: KindMapping, namespace: string, name: string): ClusterObject | undefined {
    this.note({ apiVersion: apiVersionOf(mapping), kind: mapping.kind, namespace, name });
    return this.#reader.get(mapping, namespace, name);
  }

  list(mapping: KindMapping, namespace: string | undefined, labelSelector?: string): ClusterObject[] {
    this.note({
      apiVersion: apiVersionOf(mapping),
      kind: mapping.kind,
      namespace: namespace ?? "",
      ...(labelSelector ? { labelSelector } : {}),
    });
    return this.#reader.list(mapping, namespace, labelSelector);
  }

  namespaces(): NamespaceInfo[] {
    return this.#reader.namespaces();
  }
}

function withAnnotation(definition: JsonObject, key: string, value: string): PolicyTemplateObject {
  const metadata = isObject(definition.metadata) ? definition.metadata : {};
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  return {
    ...definition,
    metadata: { ...metadata, annotations: { ...annotations, [key]: value } },
  } as PolicyTemplateObject;
}

// Encryption ---------------------------------------------------------------------------------

/** A typed failure of decryption, worded as go-template-utils words it. */
export class DecryptionError extends Error {
  override name = "DecryptionError";
}

function aesCbc(key: Buffer): string | undefined {
  return key.length === 16 || key.length === 24 || key.length === 32
    ? `aes-${key.length * 8}-cbc`
    : undefined;
}

function invalidKeySize(key: Buffer): string {
  return `the AES key is invalid: crypto/aes: invalid key size ${key.length}`;
}

/** OCM's `protect`: AES-CBC with PKCS #7 padding, `$ocm_encrypted:` + standard base64; "" stays "". */
export function encryptValue(plaintext: string, key: Buffer, iv: Buffer): string {
  if (plaintext === "") return plaintext;
  const algorithm = aesCbc(key);
  if (!algorithm) throw new Error(invalidKeySize(key));
  if (iv.length !== ivSize) throw new Error("initialization vector must be 128 bits");
  const cipher = createCipheriv(algorithm, key, iv);
  const encrypted = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return PolicyTemplates.encryptedPrefix + encrypted.toString("base64");
}

/** Strict standard base64 (padding required), or the offset Go's decoder reports. */
function decodeBase64(text: string): Buffer | number {
  const bad = [...text].findIndex((char) => !/[A-Za-z0-9+/=]/.test(char));
  if (bad >= 0) return bad;
  if (text.length % 4 !== 0) return Math.floor(text.length / 4) * 4;
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text))
    return text.indexOf("=");
  return Buffer.from(text, "base64");
}

function pkcs7Unpad(padded: Buffer): Buffer | string {
  const last = padded.at(-1);
  if (last === undefined || last === 0 || last > padded.length)
    return "invalid PCKS7 padding: the padding length is invalid";
  for (let i = last; i > 1; i--) {
    if (padded[padded.length - i] !== last) return "invalid PCKS7 padding: not all the padding bytes match";
  }
  return padded.subarray(0, padded.length - last);
}

export interface DecryptionKeys {
  key: Buffer;
  /** Tried when key fails (the key before a rotation). */
  fallbackKey?: Buffer;
  iv: Buffer;
}

/** Decrypts one `$ocm_encrypted:<base64>` value (the prefix is optional). */
export function decryptValue(value: string, keys: DecryptionKeys): string {
  const encoded = value.startsWith(PolicyTemplates.encryptedPrefix)
    ? value.slice(PolicyTemplates.encryptedPrefix.length)
    : value;
  if (keys.iv.length !== ivSize) throw new DecryptionError("initialization vector must be 128 bits");
  const decoded = decodeBase64(encoded);
  if (typeof decoded === "number")
    throw new DecryptionError(
      `${encoded}: the encrypted string is invalid base64: illegal base64 data at input byte ${decoded}`,
    );
  let failure = "";
  for (const key of keys.fallbackKey ? [keys.key, keys.fallbackKey] : [keys.key]) {
    const algorithm = aesCbc(key);
    if (!algorithm) {
      failure = invalidKeySize(key);
      continue;
    }
    if (decoded.length % ivSize !== 0) {
      failure = "crypto/cipher: input not full blocks";
      continue;
    }
    const decipher = createDecipheriv(algorithm, key, keys.iv).setAutoPadding(false);
    const unpadded = pkcs7Unpad(Buffer.concat([decipher.update(decoded), decipher.final()]));
    if (typeof unpadded === "string") {
      failure = unpadded;
      continue;
    }
    return unpadded.toString("utf8");
  }
  throw new DecryptionError(failure);
}

const encryptedPattern = new RegExp(`${escapeRegExp(PolicyTemplates.encryptedPrefix)}([a-zA-Z0-9+/=]+)`, "g");

/** Replaces every encrypted value in a text (a template's YAML) with its plaintext. */
export function decryptEncryptedStrings(text: string, keys: DecryptionKeys): string {
  return text.replace(encryptedPattern, (match) => {
    try {
      return decryptValue(match, keys);
    } catch (error) {
      throw new DecryptionError(`decryption of ${match} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  });
}

/** A new AES-256 key for a cluster. */
export function newEncryptionKey(randomBytes: (size: number) => Buffer): Buffer {
  const key = randomBytes(encryptionKeySize);
  if (key.length !== encryptionKeySize) throw new Error(`expected ${encryptionKeySize} random bytes`);
  return key;
}

export interface EncryptionKeySecret {
  apiVersion: "v1";
  kind: "Secret";
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  data: Record<string, string>;
}

/** The Secret the hub creates in the cluster namespace when the cluster has no key yet. */
export function encryptionKeySecret(cluster: string, key: Buffer, now: Date): EncryptionKeySecret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: Secrets.policyEncryptionKey,
      namespace: cluster,
      labels: {
        [BosunPolicyEncryptionKeySecret.backupLabel]: BosunPolicyEncryptionKeySecret.backupLabelValue,
      },
      // Go's time.RFC3339: whole seconds.
      annotations: {
        [BosunPolicyEncryptionKeySecret.lastRotatedAnnotation]: now.toISOString().replace(/\.\d+Z$/, "Z"),
      },
    },
    data: { [BosunPolicyEncryptionKeySecret.dataKey]: key.toString("base64") },
  };
}

/** The key in a policy-encryption-key Secret; undefined when the Secret has none. */
export function encryptionKeyOf(secret: ClusterObject | undefined): Buffer | undefined {
  const data = secret?.data;
  if (!isObject(data)) return undefined;
  const value = data[BosunPolicyEncryptionKeySecret.dataKey];
  return typeof value === "string" ? Buffer.from(value, "base64") : undefined;
}

function validIv(annotation: string | undefined): Buffer | undefined {
  if (annotation === undefined) return undefined;
  const decoded = decodeBase64(annotation);
  return typeof decoded !== "number" && decoded.length === ivSize ? decoded : undefined;
}

type Encryption = { protect: (plaintext: string) => string; iv: string } | { error: string; iv: string };

function setUpEncryption(options: HubTemplateOptions): Encryption {
  let iv = validIv(options.currentIv);
  if (!iv) {
    iv = options.randomBytes(ivSize);
    if (iv.length !== ivSize) throw new Error(`expected ${ivSize} random bytes`);
  }
  const ivText = iv.toString("base64");
  const key = options.encryptionKey;
  if (!key) return { error: "AESKey must be set to use this encryption mode", iv: ivText };
  if (!aesCbc(key)) return { error: invalidKeySize(key), iv: ivText };
  const usedIv = iv;
  return { protect: (plaintext) => encryptValue(plaintext, key, usedIv), iv: ivText };
}

// Resolution ---------------------------------------------------------------------------------

function markFailed(template: PolicyTemplate, message: string): PolicyTemplate {
  return {
    ...template,
    objectDefinition: withAnnotation(
      template.objectDefinition as unknown as JsonObject,
      PolicyAnnotations.hubTemplatesError,
      message,
    ),
  };
}

function emptyResult(
  policy: Pick<Policy, "spec">,
  options: Pick<HubTemplateOptions, "currentIv">,
): HubTemplateResult {
  const annotations: Record<string, string> = {};
  // OCM carries the replica's IV over whether or not encryption is still used.
  if (options.currentIv !== undefined) annotations[PolicyAnnotations.encryptionIv] = options.currentIv;
  return {
    templates: [...templatesOf(policy)],
    errors: [],
    annotations,
    reads: [],
    usesEncryption: false,
  };
}

/**
 * Resolves the hub templates of `policy` (the root, or the replica built from it: only
 * objectDefinitions change) for one cluster. Never throws for bad template content: each
 * failing template is reported and marked. A ReadPending from the reader passes through.
 */
export function resolveHubTemplates(
  policy: Pick<Policy, "metadata" | "spec">,
  context: HubTemplateContext,
  options: HubTemplateOptions,
): HubTemplateResult {
  const result = emptyResult(policy, options);
  if (templatesDisabled(policy)) return result;
  const reader = new RecordingReader(options.reader);
  const lookupRestriction: LookupRestriction | undefined = options.unrestricted
    ? undefined
    : {
        namespace: context.policy.namespace,
        clusterScopedAllowList: [
          { group: managedCluster.group, kind: managedCluster.kind, name: context.cluster },
        ],
      };
  const dot = contextValue(context);
  // Once a template turns encryption on, it stays on for the templates after it, as in OCM.
  let encryption: Encryption | undefined;
  result.templates.forEach((template, index) => {
    const raw = rawOf(template);
    if (!hasHubTemplate(raw)) return;
    if (raw.includes("ManagedClusterLabels"))
      reader.note({
        apiVersion: `${managedCluster.group}/${managedCluster.version}`,
        kind: managedCluster.kind,
        namespace: "",
        name: context.cluster,
      });
    const encrypts = encryptingPattern.test(raw);
    if (encrypts && !encryption) {
      encryption = setUpEncryption(options);
      result.usesEncryption = true;
      result.annotations[PolicyAnnotations.encryptionIv] = encryption.iv;
    }
    const fail = (message: string) => {
      result.errors.push({ index, message, retryable: message.includes(missingApiResource) });
      result.templates[index] = markFailed(template, message);
    };
    if (encryption && "error" in encryption) {
      fail(`error validating EncryptionConfig: ${encryption.error}`);
      return;
    }
    let resolved: Json;
    try {
      resolved = resolveTemplate({
        definition: template.objectDefinition as unknown as Json,
        context: dot,
        delimiters: hubDelimiters,
        environment: {
          reader,
          onSensitiveData: () => undefined,
          lookupRestriction,
          protect: encryption?.protect,
          additionalIndentation: hubAdditionalIndentation,
        },
      });
    } catch (error) {
      if (error instanceof TemplateResolutionError) {
        fail(error.message);
        return;
      }
      throw error;
    }
    if (!isObject(resolved)) {
      fail("failed to convert the resolved template to JSON: the result is not an object");
      return;
    }
    result.templates[index] = {
      ...template,
      objectDefinition:
        // The managed controller reads the IV from the template itself.
        encrypts && encryption
          ? withAnnotation(resolved, PolicyAnnotations.encryptionIv, encryption.iv)
          : resolved,
    };
  });
  result.reads = reader.reads;
  return result;
}

/** OCM's message when hubTemplateOptions.serviceAccountName names a missing service account. */
export function serviceAccountMissingMessage(namespace: string, name: string): string {
  return `the service account in hubTemplateOptions.serviceAccountName (${namespace}/${name}) does not exist`;
}

/** OCM's message when the service account's resolver cannot be set up (e.g. no token for it). */
export function serviceAccountSetupFailedMessage(namespace: string, name: string, reason: string): string {
  return `failed to set up the template resolver for the service account in hubTemplateOptions.serviceAccountName (${namespace}/${name}): ${reason}`;
}

/** OCM's wording of a read the service account may not make (it needs list and watch). */
export function serviceAccountReadForbiddenMessage(
  forbidden: string,
  query: { apiVersion: string; kind: string; namespace: string; name?: string },
): string {
  return `${forbidden}: ensure the client has the list and watch permissions for the query: GroupVersion=${query.apiVersion}, Kind=${query.kind}, Namespace=${query.namespace}, Name=${query.name ?? ""}`;
}

/**
 * Every hub template fails with one message (no resolver could be set up, e.g. the
 * service account is missing); OCM reports this before looking at disable-templates.
 */
export function hubTemplatesFailed(
  policy: Pick<Policy, "spec">,
  message: string,
  options: Pick<HubTemplateOptions, "currentIv"> = {},
): HubTemplateResult {
  const result = emptyResult(policy, options);
  result.templates.forEach((template, index) => {
    if (!hasHubTemplate(rawOf(template))) return;
    result.errors.push({ index, message, retryable: false });
    result.templates[index] = markFailed(template, message);
  });
  return result;
}
