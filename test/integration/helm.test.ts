// The Helm chart (deploy/helm/bosun) and the in-cluster install commands (`bosun init --deploy`,
// `bosun join --deploy`) against a real control plane, with the real helm and the control
// plane's own kubectl: with default values the chart renders exactly the objects of deploy/
// (beside the labels it adds), for the same inputs it fills in what the CLI fills in, and every
// object either of them produces passes `kubectl apply --dry-run=server` (a ServiceMonitor
// against a ServiceMonitor CRD this test installs, since no Prometheus Operator is here).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";
import { Namespaces, SecretKeys, Secrets } from "../../api/constants.ts";
import {
  agentDeployManifests,
  deployFieldManager,
  deployRoot,
  hubDeployManifests,
  manifestStream,
  parseManifests,
  readDeployManifests,
} from "../../cli/commands/deploy-manifests.ts";
import { bootstrapKubeconfig } from "../../cli/commands/join.ts";
import {
  ensureBootstrapIdentity,
  hubEndpointOf,
  mintBootstrapToken,
} from "../../controllers/registration/bootstrap.ts";
import { ensureKubeBinaries } from "../../local/binaries.ts";
import { helmBinary, runHelm, type HelmBinary } from "../../local/helm/binaries.ts";
import { applyServerSide } from "../../runtime/apply.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/wait.ts";

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "..", "..");
const chart = join(deployRoot, "helm", "bosun");
const fixture = useControlPlane("helm");
const scratch = mkdtempSync(join(tmpdir(), "bosun-helm-test-"));

/** The labels every chart object carries beside those deploy/ gives it. */
const chartLabels = [
  "helm.sh/chart",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/managed-by",
  "app.kubernetes.io/part-of",
  "app.kubernetes.io/version",
];

/**
 * A ServiceMonitor CRD with the fields the chart sets, named as the Prometheus Operator's own
 * CRD names them. Its schema prunes nothing the chart uses, and a misspelt field fails strict
 * validation.
 */
const serviceMonitorCrd: Unstructured = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "servicemonitors.monitoring.coreos.com" },
  spec: {
    group: "monitoring.coreos.com",
    names: {
      kind: "ServiceMonitor",
      listKind: "ServiceMonitorList",
      plural: "servicemonitors",
      singular: "servicemonitor",
    },
    scope: "Namespaced",
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            required: ["spec"],
            properties: {
              apiVersion: { type: "string" },
              kind: { type: "string" },
              metadata: { type: "object" },
              spec: {
                type: "object",
                required: ["endpoints", "selector"],
                properties: {
                  jobLabel: { type: "string" },
                  namespaceSelector: {
                    type: "object",
                    properties: {
                      any: { type: "boolean" },
                      matchNames: { type: "array", items: { type: "string" } },
                    },
                  },
                  selector: {
                    type: "object",
                    properties: {
                      matchLabels: { type: "object", additionalProperties: { type: "string" } },
                    },
                  },
                  endpoints: {
                    type: "array",
                    items: {
                      type: "object",
                      properties: {
                        port: { type: "string" },
                        path: { type: "string" },
                        scheme: { type: "string", enum: ["http", "https"] },
                        interval: {
                          type: "string",
                          pattern:
                            "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
                        },
                        scrapeTimeout: {
                          type: "string",
                          pattern:
                            "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

const keyOf = (object: Unstructured) =>
  `${object.kind} ${object.metadata.namespace ?? ""}/${object.metadata.name}`;

/** The objects by kind, namespace and name (helm orders them by kind, deploy/ by file). */
function byKey(objects: Unstructured[]): Map<string, Unstructured> {
  const map = new Map(objects.map((object) => [keyOf(object), object]));
  assert.equal(map.size, objects.length, "no object twice");
  return map;
}

function withoutLabels(labels: Record<string, string> | undefined, keys: string[]) {
  if (!labels) return undefined;
  const kept = Object.fromEntries(Object.entries(labels).filter(([key]) => !keys.includes(key)));
  return Object.keys(kept).length > 0 ? kept : undefined;
}

/** A copy without the chart's labels, on the object and on its pod template. */
function withoutChartLabels(object: Unstructured): Unstructured {
  const copy = structuredClone(object);
  const labels = withoutLabels(copy.metadata.labels, chartLabels);
  if (labels) copy.metadata.labels = labels;
  else delete copy.metadata.labels;
  const template = (
    copy.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined
  )?.template;
  if (template?.metadata?.labels)
    template.metadata.labels = withoutLabels(template.metadata.labels, chartLabels)!;
  return copy;
}

/** The chart's objects equal `expected`, beside the chart labels each of them carries. */
function assertSameObjects(rendered: Unstructured[], expected: Unstructured[]): void {
  for (const object of rendered) {
    for (const label of chartLabels)
      assert.ok(object.metadata.labels?.[label], `${keyOf(object)} lacks ${label}`);
  }
  const got = byKey(rendered.map(withoutChartLabels));
  const want = byKey(expected);
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [key, object] of want) assert.deepEqual(got.get(key), object, key);
}

/** The decoded bootstrap kubeconfig of a Secret, parsed: YAML spelling aside, what the agent reads. */
function bootstrapOf(objects: Unstructured[]): unknown {
  const secret = objects.find(
    (object) => object.kind === "Secret" && object.metadata.name === Secrets.bootstrapHubKubeconfig,
  );
  assert.ok(secret, "the bootstrap Secret");
  const data = (secret.data as Record<string, string>)[SecretKeys.kubeconfig]!;
  return parse(Buffer.from(data, "base64").toString("utf8"));
}

/** The objects with the bootstrap Secret's kubeconfig replaced by its parsed form. */
function withParsedBootstrap(objects: Unstructured[]): Unstructured[] {
  return objects.map((object) =>
    object.kind === "Secret" && object.metadata.name === Secrets.bootstrapHubKubeconfig
      ? { ...object, data: { [SecretKeys.kubeconfig]: bootstrapOf([object]) } }
      : object,
  );
}

const deploymentOf = (objects: Unstructured[], name: string) => {
  const deployment = objects.find((object) => object.kind === "Deployment" && object.metadata.name === name);
  assert.ok(deployment, `Deployment ${name}`);
  return deployment.spec as {
    replicas: number;
    template: {
      spec: {
        nodeSelector?: Record<string, string>;
        tolerations?: unknown[];
        containers: { image: string; imagePullPolicy: string; command: string[]; resources: unknown }[];
      };
    };
  };
};

describe("the Helm chart and the in-cluster install commands", () => {
  let helm: HelmBinary;
  let kubectl: string;
  let admin: KubeClient;
  let runs = 0;
  const kubectlCache = join(scratch, "kubectl-cache");
  const caFile = join(scratch, "hub-ca.pem");
  const image = "registry.example/bosun:0.1.0";
  const caData = () => Buffer.from(fixture.plane.caPem).toString("base64");

  async function render(args: string[] = [], values?: unknown): Promise<Unstructured[]> {
    const valueArgs: string[] = [];
    if (values !== undefined) {
      const file = join(scratch, `values-${runs++}.yaml`);
      writeFileSync(file, stringify(values));
      valueArgs.push("-f", file);
    }
    const result = await runHelm(helm, ["template", "bosun", chart, ...valueArgs, ...args]);
    assert.equal(result.code, 0, result.stderr);
    return parseManifests(result.stdout, "helm template");
  }

  async function kubectlRun(args: string[]): Promise<string> {
    try {
      const { stdout } = await run(
        kubectl,
        ["--kubeconfig", fixture.plane.kubeconfigPath, "--cache-dir", kubectlCache, ...args],
        { maxBuffer: 16 << 20 },
      );
      return stdout;
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? "";
      throw new Error(`kubectl ${args.join(" ")} failed:\n${stderr}`, { cause: error });
    }
  }

  /**
   * `kubectl apply --dry-run=server` of the objects, their namespaces created for real first;
   * passes only when the API server accepted every one of them.
   */
  async function assertDryRunPasses(objects: Unstructured[]): Promise<void> {
    const write = (some: Unstructured[]) => {
      const file = join(scratch, `objects-${runs++}.yaml`);
      writeFileSync(file, manifestStream(some));
      return file;
    };
    const namespaces = objects.filter((object) => object.kind === "Namespace");
    if (namespaces.length > 0) await kubectlRun(["apply", "-f", write(namespaces)]);
    const stdout = await kubectlRun([
      "apply",
      "--dry-run=server",
      "--validate=strict",
      "-o",
      "name",
      "-f",
      write(objects),
    ]);
    const nameOf = (object: Unstructured) => {
      const group = object.apiVersion.includes("/") ? `.${object.apiVersion.split("/")[0]}` : "";
      return `${object.kind.toLowerCase()}${group}/${object.metadata.name}`;
    };
    assert.deepEqual(stdout.trim().split("\n").sort(), objects.map(nameOf).sort());
  }

  /** Runs the CLI as a process; it fails the test on a non-zero exit. */
  async function bosun(args: string[]): Promise<{ stdout: string; stderr: string }> {
    const env = { ...process.env };
    delete env.KUBECONFIG;
    try {
      return await run(process.execPath, [join(repo, "cli", "bosun.ts"), ...args], {
        env,
        maxBuffer: 16 << 20,
      });
    } catch (error) {
      const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
      throw new Error(`bosun ${args.join(" ")} failed:\n${stdout}\n${stderr}`, { cause: error });
    }
  }

  /** What `bosun init` prepares and `bosun join` needs, so that the join tests also run alone. */
  async function prepareHub(): Promise<void> {
    await installCrds(admin, "hub");
    await ensureBootstrapIdentity(admin, hubEndpointOf(admin));
  }

  before(async () => {
    helm = await helmBinary();
    kubectl = (await ensureKubeBinaries()).kubectl;
    admin = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    writeFileSync(caFile, fixture.plane.caPem);
    await admin.create(serviceMonitorCrd);
    await eventually(async () => {
      const crd = await admin.get<
        Unstructured & { status?: { conditions?: { type: string; status: string }[] } }
      >({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        name: serviceMonitorCrd.metadata.name!,
      });
      assert.ok(
        crd.status?.conditions?.some(
          (condition) => condition.type === "Established" && condition.status === "True",
        ),
      );
    });
  });

  after(() => {
    admin?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test("kubectl is the control plane's own release", async () => {
    const client = JSON.parse(await kubectlRun(["version", "--client", "-o", "json"])) as {
      clientVersion: { gitVersion: string; major: string; minor: string };
    };
    const server = await admin.request<{ gitVersion: string; major: string; minor: string }>({
      method: "GET",
      path: "/version",
    });
    assert.match(server.gitVersion, /^v1\.\d+\.\d+$/);
    assert.deepEqual(
      {
        gitVersion: client.clientVersion.gitVersion,
        major: client.clientVersion.major,
        minor: client.clientVersion.minor,
      },
      { gitVersion: server.gitVersion, major: server.major, minor: server.minor },
    );
  });

  test("with default values the chart renders deploy/hub, and the API server accepts it", async () => {
    const rendered = await render();
    assertSameObjects(rendered, await readDeployManifests("hub"));
    await assertDryRunPasses(rendered);
  });

  test("with agent.enabled and a cluster name it renders deploy/agent for that cluster", async () => {
    const rendered = await render([
      "--set",
      "hub.enabled=false",
      "--set",
      "agent.enabled=true",
      "--set",
      "agent.clusterName=east",
    ]);
    assertSameObjects(
      rendered,
      agentDeployManifests(await readDeployManifests("agent"), { clusterName: "east" }),
    );
    await assertDryRunPasses(rendered);
  });

  test("for the same image, cluster and hub, the chart fills in what bosun init/join --deploy do", async () => {
    const token = "test-token";
    const rendered = await render([], {
      image: { repository: "registry.example/bosun", tag: "0.1.0" },
      agent: {
        enabled: true,
        clusterName: "east",
        bootstrap: { hubApiserver: fixture.plane.server, hubToken: token, hubCaData: caData() },
      },
    });
    const hub = hubDeployManifests(await readDeployManifests("hub"), { image });
    const agent = agentDeployManifests(await readDeployManifests("agent"), {
      clusterName: "east",
      image,
      bootstrapKubeconfig: bootstrapKubeconfig(fixture.plane.server, fixture.plane.caPem, token),
    });
    assertSameObjects(withParsedBootstrap(rendered), withParsedBootstrap([...hub, ...agent]));
    await assertDryRunPasses(rendered);
  });

  test("custom values reach the Deployments, and the ServiceMonitors select the metrics Services", async () => {
    const tolerations = [{ key: "dedicated", operator: "Equal", value: "control", effect: "NoSchedule" }];
    const resources = { requests: { cpu: "200m", memory: "256Mi" }, limits: { memory: "1Gi" } };
    const executionRules = [
      {
        apiGroups: [""],
        resources: ["configmaps"],
        verbs: ["get", "list", "watch", "create", "update", "delete"],
      },
    ];
    const rendered = await render([], {
      image: { repository: "registry.example/bosun", tag: "0.1.0", pullPolicy: "Always" },
      hub: {
        replicas: 2,
        nodeSelector: { role: "control" },
        tolerations,
        resources,
        extraArgs: ["--log-level", "debug"],
      },
      agent: { enabled: true, createNamespace: false, clusterName: "west", executionRules },
      metrics: { serviceMonitor: { enabled: true, interval: "15s", labels: { release: "prometheus" } } },
    });
    const hub = deploymentOf(rendered, "bosun-hub");
    assert.equal(hub.replicas, 2);
    assert.deepEqual(hub.template.spec.nodeSelector, { role: "control" });
    assert.deepEqual(hub.template.spec.tolerations, tolerations);
    const [hubContainer] = hub.template.spec.containers;
    assert.deepEqual(
      {
        image: hubContainer!.image,
        pullPolicy: hubContainer!.imagePullPolicy,
        resources: hubContainer!.resources,
      },
      { image, pullPolicy: "Always", resources },
    );
    assert.deepEqual(hubContainer!.command.slice(-2), ["--log-level", "debug"]);
    const agent = deploymentOf(rendered, "bosun-agent");
    assert.equal(agent.template.spec.nodeSelector, undefined, "the agent keeps its own scheduling");
    const agentCommand = agent.template.spec.containers[0]!.command;
    assert.equal(agentCommand[agentCommand.indexOf("--cluster-name") + 1], "west");
    const role = rendered.find(
      (object) => object.kind === "ClusterRole" && object.metadata.name === "bosun:agent:execution",
    );
    assert.deepEqual(role?.rules, executionRules);
    assert.deepEqual(
      rendered.filter((object) => object.kind === "Namespace").map((object) => object.metadata.name),
      [Namespaces.hub],
      "agent.createNamespace=false leaves the agent's namespace out",
    );

    const monitors = rendered.filter((object) => object.kind === "ServiceMonitor");
    assert.deepEqual(monitors.map(keyOf).sort(), [
      `ServiceMonitor ${Namespaces.agent}/bosun-agent`,
      `ServiceMonitor ${Namespaces.hub}/bosun-hub`,
    ]);
    for (const monitor of monitors) {
      const spec = monitor.spec as {
        jobLabel: string;
        selector: { matchLabels: Record<string, string> };
        namespaceSelector: { matchNames: string[] };
        endpoints: { port: string; path: string; interval: string }[];
      };
      assert.equal(monitor.metadata.labels?.release, "prometheus");
      const selected = rendered.filter(
        (object) =>
          object.kind === "Service" &&
          spec.namespaceSelector.matchNames.includes(object.metadata.namespace!) &&
          Object.entries(spec.selector.matchLabels).every(
            ([key, value]) => object.metadata.labels?.[key] === value,
          ),
      );
      assert.deepEqual(
        selected.map((service) => service.metadata.name),
        [`${monitor.metadata.name}-metrics`],
      );
      const service = selected[0]!;
      // The job label is the Service's name label: job="bosun-hub", as the Prometheus rules expect.
      assert.equal(service.metadata.labels?.[spec.jobLabel], monitor.metadata.name);
      const ports = (service.spec as { ports: { name: string }[] }).ports.map((port) => port.name);
      assert.deepEqual(
        spec.endpoints.map((endpoint) => ({ ...endpoint, known: ports.includes(endpoint.port) })),
        [
          {
            port: "metrics",
            path: "/metrics",
            scheme: "http",
            interval: "15s",
            scrapeTimeout: "10s",
            known: true,
          },
        ],
      );
    }
    // agent.createNamespace=false is for a namespace that exists.
    await applyServerSide(
      admin,
      { apiVersion: "v1", kind: "Namespace", metadata: { name: Namespaces.agent } },
      { fieldManager: "helm-test" },
    );
    await assertDryRunPasses(rendered);
    // The dry run is strict: a misspelt field is refused, by the CRD's schema as for built-in kinds.
    const misspelt = structuredClone(monitors[0]!);
    (misspelt.spec as Record<string, unknown>).endpoint = [];
    await assert.rejects(assertDryRunPasses([misspelt]), /unknown field "spec\.endpoint"/);
  });

  test("the chart refuses values it cannot render, saying which", async () => {
    const cases: { name: string; args: string[]; problem: RegExp }[] = [
      {
        name: "an agent without a cluster name",
        args: ["--set", "agent.enabled=true"],
        problem: /agent\.clusterName/,
      },
      {
        name: "a bootstrap Secret without a token",
        args: [
          "--set",
          "agent.enabled=true",
          "--set",
          "agent.clusterName=east",
          "--set",
          "agent.bootstrap.hubApiserver=https://hub.example:6443",
          "--set",
          `agent.bootstrap.hubCaData=${caData()}`,
        ],
        problem: /agent\.bootstrap\.hubToken/,
      },
      {
        name: "a hub URL that is not https",
        args: [
          "--set",
          "agent.enabled=true",
          "--set",
          "agent.clusterName=east",
          "--set",
          "agent.bootstrap.hubApiserver=http://hub.example",
        ],
        problem: /must be an https:\/\/ URL/,
      },
    ];
    for (const { name, args, problem } of cases) {
      const result = await runHelm(helm, ["template", "bosun", chart, ...args]);
      assert.notEqual(result.code, 0, name);
      assert.match(result.stderr, problem, name);
    }
  });

  test("`bosun init --deploy` prints deploy/hub with the image, which the API server accepts", async () => {
    const { stdout } = await bosun(["init", "--deploy", "--image", image]);
    const printed = parseManifests(stdout, "bosun init --deploy");
    assert.deepEqual(printed, hubDeployManifests(await readDeployManifests("hub"), { image }));
    await assertDryRunPasses(printed);
  });

  test("`bosun init --deploy --apply` prepares the hub and applies it", async () => {
    const { stdout } = await bosun([
      "init",
      "--deploy",
      "--apply",
      "--image",
      image,
      "--kubeconfig",
      fixture.plane.kubeconfigPath,
    ]);
    assert.match(stdout, /bosun join --hub-token \S+ --hub-apiserver/);
    for (const object of hubDeployManifests(await readDeployManifests("hub"), { image })) {
      const live = await admin.get<Unstructured>({
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name!,
        ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
      });
      // An apply that sets nothing but the name (the Namespace) owns no field, and leaves no entry.
      const setsFields = Object.keys(object).length > 3 || Object.keys(object.metadata).length > 2;
      assert.ok(
        !setsFields || live.metadata.managedFields?.some((entry) => entry.manager === deployFieldManager),
        `${keyOf(object)} applied by ${deployFieldManager}`,
      );
    }
    const live = await admin.get<Unstructured>({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "bosun-hub",
      namespace: Namespaces.hub,
    });
    assert.equal(deploymentOf([live], "bosun-hub").template.spec.containers[0]!.image, image);
    // init's own work: the hub CRDs are installed.
    await admin.get({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      name: "managedclusters.cluster.open-cluster-management.io",
    });
  });

  test("`bosun join --deploy` prints deploy/agent with its bootstrap Secret, checking the token first", async () => {
    await prepareHub();
    const token = await mintBootstrapToken(admin, 600);
    const args = [
      "join",
      "--deploy",
      "--hub-apiserver",
      fixture.plane.server,
      "--cluster-name",
      "east",
      "--ca-file",
      caFile,
      "--image",
      image,
    ];
    const { stdout } = await bosun([...args, "--hub-token", token]);
    const printed = parseManifests(stdout, "bosun join --deploy");
    assert.deepEqual(
      printed,
      agentDeployManifests(await readDeployManifests("agent"), {
        clusterName: "east",
        image,
        bootstrapKubeconfig: bootstrapKubeconfig(fixture.plane.server, fixture.plane.caPem, token),
      }),
    );
    await assertDryRunPasses(printed);
    await assert.rejects(
      bosun([...args, "--hub-token", "not-a-token"]),
      /the hub refused the bootstrap token/,
    );
  });

  test("`bosun join --deploy --apply` installs the managed-cluster APIs and the agent", async () => {
    await prepareHub();
    const token = await mintBootstrapToken(admin, 600);
    await bosun([
      "join",
      "--deploy",
      "--apply",
      "--hub-apiserver",
      fixture.plane.server,
      "--cluster-name",
      "west",
      "--ca-file",
      caFile,
      "--hub-token",
      token,
      "--kubeconfig",
      fixture.plane.kubeconfigPath,
    ]);
    const live = await admin.get<Unstructured>({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "bosun-agent",
      namespace: Namespaces.agent,
    });
    const command = deploymentOf([live], "bosun-agent").template.spec.containers[0]!.command;
    assert.equal(command[command.indexOf("--cluster-name") + 1], "west");
    const secret = await admin.get<Unstructured>({
      apiVersion: "v1",
      kind: "Secret",
      name: Secrets.bootstrapHubKubeconfig,
      namespace: Namespaces.agent,
    });
    assert.deepEqual(
      bootstrapOf([secret]),
      parse(bootstrapKubeconfig(fixture.plane.server, fixture.plane.caPem, token)),
    );
    await admin.get({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      name: "appliedmanifestworks.work.open-cluster-management.io",
    });
  });
});
