// What one write of a large ManifestWork costs kube-apiserver, by the way it is written: a JSON
// merge patch, a JSON patch (RFC 6902) that replaces only the changed subtree, or a PUT of the
// whole object; for the spec (the hub's rewrite) and for the status (an agent's report). One
// real local hub, N works in one namespace, one informer watching them (as the hub's cache
// does); each variant writes every work once, `--in-flight` at a time, and the kube-apiserver
// process's CPU time over the round is divided by N.
//   npx node bench/write-cost.ts [--works 1000] [--manifests 20] [--in-flight 16] [--rounds 2]
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { Resources } from "../api/constants.ts";
import type { ManifestWork } from "../api/types/work.ts";
import { ensureKubeBinaries } from "../local/binaries.ts";
import { ControlPlane } from "../local/controlplane.ts";
import { installCrds } from "../runtime/crds.ts";
import { InformerFactory } from "../runtime/informer-factory.ts";
import { KubeClient } from "../runtime/kube/client.ts";

const { values: args } = parseArgs({
  options: {
    works: { type: "string", default: "1000" },
    manifests: { type: "string", default: "20" },
    "in-flight": { type: "string", default: "16" },
    rounds: { type: "string", default: "2" },
  },
});
const workCount = Number(args.works);
const manifestCount = Number(args.manifests);
const inFlight = Number(args["in-flight"]);
const namespace = "cluster-a";

function manifests(version: number) {
  return Array.from({ length: manifestCount }, (_, i) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `app-config-${i}`, namespace: "app" },
    data: { version: String(version), payload: "x".repeat(512) },
  }));
}

function conditions(generation: number, version: number) {
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, version)).toISOString().replace(/\.\d+Z$/, "Z");
  return ["Applied", "Available"].map((type) => ({
    type,
    status: "True",
    reason: `${type}ManifestWorkComplete`,
    message: `${type} of manifests at version ${version}`,
    lastTransitionTime: at,
    observedGeneration: generation,
  }));
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

type Variant = {
  name: string;
  write: (client: KubeClient, work: ManifestWork, version: number) => Promise<unknown>;
};

const ref = (name: string) => ({
  apiVersion: Resources.ManifestWork.apiVersion,
  kind: "ManifestWork",
  namespace,
  name,
});

const variants: Variant[] = [
  {
    name: "spec: merge patch (whole manifests list)",
    write: (client, work, version) =>
      client.patch(ref(work.metadata.name!), "merge", {
        metadata: { resourceVersion: work.metadata.resourceVersion },
        spec: { workload: { manifests: manifests(version) } },
      }),
  },
  {
    name: "spec: JSON patch (replace /spec/workload/manifests)",
    write: (client, work, version) =>
      client.patch(ref(work.metadata.name!), "json", [
        { op: "replace", path: "/metadata/resourceVersion", value: work.metadata.resourceVersion },
        { op: "replace", path: "/spec/workload/manifests", value: manifests(version) },
      ]),
  },
  {
    name: "spec: PUT (whole object)",
    write: (client, work, version) =>
      client.replace({ ...work, spec: { ...work.spec, workload: { manifests: manifests(version) } } }),
  },
  {
    name: "status: merge patch (conditions)",
    write: (client, work, version) =>
      client.patch(
        ref(work.metadata.name!),
        "merge",
        {
          metadata: { resourceVersion: work.metadata.resourceVersion },
          status: { conditions: conditions(work.metadata.generation ?? 1, version) },
        },
        { subresource: "status" },
      ),
  },
  {
    name: "status: JSON patch (replace /status/conditions)",
    write: (client, work, version) =>
      client.patch(
        ref(work.metadata.name!),
        "json",
        [
          { op: "replace", path: "/metadata/resourceVersion", value: work.metadata.resourceVersion },
          {
            op: "add",
            path: "/status/conditions",
            value: conditions(work.metadata.generation ?? 1, version),
          },
        ],
        { subresource: "status" },
      ),
  },
  {
    name: "status: PUT (whole object)",
    write: (client, work, version) =>
      client.replace(
        {
          ...work,
          status: { ...work.status, conditions: conditions(work.metadata.generation ?? 1, version) },
        },
        { subresource: "status" },
      ),
  },
];

const plane = await ControlPlane.start({ name: "bench-write-cost", binaries: await ensureKubeBinaries() });
const pid = plane.record().pids.apiserver;
const client = await KubeClient.fromFile(plane.kubeconfigPath);
const informers = new InformerFactory({ client, logger: pino({ level: "warn" }) });
const rows: { variant: string; round: number; apiserverMsPerWrite: number; wallSeconds: number }[] = [];
try {
  await installCrds(client, "hub");
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  const names = Array.from({ length: workCount }, (_, i) => `work-${String(i).padStart(5, "0")}`);
  await inBatches(names, inFlight, (name) =>
    client.create({
      ...ref(name),
      metadata: { name, namespace },
      spec: { workload: { manifests: manifests(0) } },
    }),
  );
  const works = informers.informer<ManifestWork>(Resources.ManifestWork, { namespace });
  informers.start();
  await informers.waitForSync({ timeoutMs: 60_000 });
  let version = 0;
  for (let round = 1; round <= Number(args.rounds); round++) {
    for (const variant of variants) {
      version++;
      const before = cpuSeconds(pid);
      const startedAt = performance.now();
      await inBatches(names, inFlight, (name) =>
        variant.write(client, works.get(`${namespace}/${name}`)!, version),
      );
      // The informer has every write before the next variant reads its objects.
      for (;;) {
        const all = works.list();
        const reportedMessage = (work: ManifestWork) => work.status?.conditions?.[0]?.message ?? "";
        const done = variant.name.startsWith("spec")
          ? all.every(
              (work) =>
                (work.spec?.workload?.manifests?.[0] as { data?: { version?: string } })?.data?.version ===
                String(version),
            )
          : all.every((work) => reportedMessage(work).endsWith(` ${version}`));
        if (done) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const wallSeconds = (performance.now() - startedAt) / 1000;
      const apiserverMsPerWrite = ((cpuSeconds(pid) - before) * 1000) / workCount;
      rows.push({
        variant: variant.name,
        round,
        apiserverMsPerWrite: Math.round(apiserverMsPerWrite * 100) / 100,
        wallSeconds: Math.round(wallSeconds * 100) / 100,
      });
      console.error(
        `round ${round} ${variant.name}: ${apiserverMsPerWrite.toFixed(2)} ms of kube-apiserver CPU per write, ${wallSeconds.toFixed(2)} s`,
      );
    }
  }
} finally {
  await informers.stop();
  client.close();
  await plane.stop();
}
console.log(
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
      works: workCount,
      manifestsPerWork: manifestCount,
      inFlight,
      rows,
    },
    null,
    2,
  ),
);
