// Kubernetes bootstrap-token discovery: the hub signs kube-public/cluster-info's kubeconfig
// with each bootstrap token (a detached HS256 JWS keyed by the token secret, under
// `jws-kubeconfig-<token-id>`), so that a joining cluster holding the token can tell the
// hub's real CA from one a man in the middle put there, without sending the token first.
import { createHmac, timingSafeEqual } from "node:crypto";

export interface BootstrapToken {
  id: string;
  secret: string;
}

const bootstrapTokenPattern = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

/** The id and secret of a Kubernetes bootstrap token (`<6 chars>.<16 chars>`), else undefined. */
export function parseBootstrapToken(token: string): BootstrapToken | undefined {
  const match = bootstrapTokenPattern.exec(token.trim());
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

function hmac(signingInput: string, secret: string): Buffer {
  return createHmac("sha256", secret).update(signingInput).digest();
}

/** The detached JWS (`<header>..<signature>`) of `content`, as the bootstrap signer writes it. */
export function detachedSignature(content: string, token: BootstrapToken): string {
  const header = base64url(JSON.stringify({ alg: "HS256", kid: token.id }));
  const signature = hmac(`${header}.${base64url(content)}`, token.secret);
  return `${header}..${base64url(signature)}`;
}

/**
 * Why `jws` is not a valid detached signature of `content` with `token`, or undefined when it
 * is. Only HS256 with the token's id as key id is accepted.
 */
export function detachedSignatureProblem(
  jws: string,
  content: string,
  token: BootstrapToken,
): string | undefined {
  const parts = jws.trim().split(".");
  if (parts.length !== 3 || parts[1] !== "") return "the signature is not a detached JWS";
  const [header, , signature] = parts as [string, string, string];
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
  } catch {
    return "the signature's header is not JSON";
  }
  const fields = (parsed ?? {}) as { alg?: unknown; kid?: unknown };
  if (fields.alg !== "HS256") return `the signature's algorithm is ${String(fields.alg)}, not HS256`;
  if (fields.kid !== undefined && fields.kid !== token.id)
    return `the signature is for token id ${JSON.stringify(fields.kid)}, not ${token.id}`;
  const expected = hmac(`${header}.${base64url(content)}`, token.secret);
  const actual = Buffer.from(signature, "base64url");
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected))
    return "the signature does not match the content and the token";
  return undefined;
}
