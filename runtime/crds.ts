// Installs bosun's CRDs (hub/ or managed/) and waits until the API server serves each kind.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parse } from "yaml";
import { applyServerSide } from "./apply.ts";
import type { KubeClient } from "./kube/client.ts";
import type { Unstructured } from "./kube/types.ts";

export const crdRoot = join(import.meta.dirname, "..", "crds");
export const installFieldManager = "bosun-install";

interface CrdDocument extends Unstructured {
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; served: boolean; storage: boolean }[];
  };
}

export async function readCrds(side: "hub" | "managed"): Promise<CrdDocument[]> {
  const dir = join(crdRoot, side);
  const files = (await readdir(dir)).filter((file) => file.endsWith(".yaml")).sort();
  return Promise.all(
    files.map(async (file) => parse(await readFile(join(dir, file), "utf8")) as CrdDocument),
  );
}

/**
 * Applies every CRD of one side with server-side apply (so a re-run upgrades them in place)
 * and returns once each kind can be listed: a CRD that is Established can still answer
 * 429 for a moment while its storage initialises.
 */
export async function installCrds(
  client: KubeClient,
  side: "hub" | "managed",
  options: { timeoutMs?: number; onProgress?: (message: string) => void } = {},
): Promise<string[]> {
  const crds = await readCrds(side);
  for (const crd of crds) {
    await applyServerSide(client, crd, { fieldManager: installFieldManager, force: true });
  }
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const kinds: string[] = [];
  for (const crd of crds) {
    const version = crd.spec.versions.find((v) => v.storage)?.name ?? crd.spec.versions[0]!.name;
    const apiVersion = `${crd.spec.group}/${version}`;
    const kind = crd.spec.names.kind;
    for (;;) {
      try {
        client.discovery.invalidate(apiVersion);
        await client.list(apiVersion, kind, { limit: 1 });
        break;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`CRD for ${kind} (${apiVersion}) is not served`, { cause: error });
        await sleep(200);
      }
    }
    kinds.push(kind);
    options.onProgress?.(`installed ${kind} (${apiVersion})`);
  }
  return kinds;
}
