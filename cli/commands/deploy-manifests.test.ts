import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { Namespaces, SecretKeys, Secrets } from "../../api/constants.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import {
  agentDeployManifests,
  checkDeployFlags,
  clusterNamePlaceholder,
  hubDeployManifests,
  manifestStream,
  parseManifests,
  readDeployManifests,
  type DeployFlags,
} from "./deploy-manifests.ts";

interface Container {
  name: string;
  image: string;
  command: string[];
}

const containers = (objects: Unstructured[]): Container[] =>
  objects
    .filter((object) => object.kind === "Deployment")
    .flatMap(
      (object) =>
        (object.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers,
    );

const flagValue = (command: string[], flag: string) => command[command.indexOf(flag) + 1];

describe("checkDeployFlags", () => {
  const cases: { flags: DeployFlags; problem?: RegExp }[] = [
    { flags: {} },
    { flags: { deploy: true } },
    { flags: { deploy: true, apply: true, image: "registry.example/bosun:1" } },
    { flags: { apply: true }, problem: /^--apply goes with --deploy$/ },
    { flags: { image: "x" }, problem: /^--image goes with --deploy$/ },
    { flags: { apply: true, image: "x" }, problem: /^--apply and --image go with --deploy$/ },
  ];
  for (const { flags, problem } of cases) {
    test(JSON.stringify(flags), () => {
      if (problem) assert.throws(() => checkDeployFlags(flags), { message: problem });
      else checkDeployFlags(flags);
    });
  }
});

describe("the shipped manifests", () => {
  test("each component starts with its namespace, and everything else is in it or cluster-scoped", async () => {
    for (const [component, namespace] of [
      ["hub", Namespaces.hub],
      ["agent", Namespaces.agent],
    ] as const) {
      const objects = await readDeployManifests(component);
      assert.deepEqual(
        { kind: objects[0]?.kind, name: objects[0]?.metadata.name },
        { kind: "Namespace", name: namespace },
      );
      const allowed: (string | undefined)[] = [undefined, namespace];
      for (const object of objects.slice(1)) {
        assert.ok(allowed.includes(object.metadata.namespace), `${object.kind} ${object.metadata.name}`);
      }
    }
  });

  test("the agent's Deployment carries the cluster-name placeholder the CLI fills in", async () => {
    const [agent] = containers(await readDeployManifests("agent"));
    assert.equal(flagValue(agent!.command, "--cluster-name"), clusterNamePlaceholder);
  });
});

describe("hubDeployManifests", () => {
  test("sets the image of every container and leaves the objects read untouched", async () => {
    const read = await readDeployManifests("hub");
    const before = structuredClone(read);
    const filled = hubDeployManifests(read, { image: "registry.example/bosun:0.1.0" });
    assert.deepEqual(
      containers(filled).map((container) => container.image),
      ["registry.example/bosun:0.1.0"],
    );
    assert.deepEqual(read, before);
    assert.equal(filled.length, read.length);
  });

  test("without an image, the manifests as shipped", async () => {
    const read = await readDeployManifests("hub");
    assert.deepEqual(hubDeployManifests(read), read);
  });

  test("an empty image is refused", async () => {
    const read = await readDeployManifests("hub");
    assert.throws(() => hubDeployManifests(read, { image: " " }), /--image must name an image/);
  });
});

describe("agentDeployManifests", () => {
  test("fills in the cluster name and the image, leaving no placeholder", async () => {
    const filled = agentDeployManifests(await readDeployManifests("agent"), {
      clusterName: "east",
      image: "bosun:test",
    });
    const [agent] = containers(filled);
    assert.equal(flagValue(agent!.command, "--cluster-name"), "east");
    assert.equal(agent!.image, "bosun:test");
    assert.ok(!JSON.stringify(filled).includes(clusterNamePlaceholder));
    assert.equal(filled.filter((object) => object.kind === "Secret").length, 1, "only hub-kubeconfig-secret");
  });

  test("puts the bootstrap Secret, as join writes it, before the Deployment", async () => {
    const kubeconfig = "apiVersion: v1\nkind: Config\n";
    const filled = agentDeployManifests(await readDeployManifests("agent"), {
      clusterName: "east",
      bootstrapKubeconfig: kubeconfig,
    });
    const secretAt = filled.findIndex((object) => object.metadata.name === Secrets.bootstrapHubKubeconfig);
    const deploymentAt = filled.findIndex((object) => object.kind === "Deployment");
    assert.ok(secretAt > 0 && secretAt < deploymentAt, `${secretAt} < ${deploymentAt}`);
    const secret = filled[secretAt]!;
    assert.equal(secret.metadata.namespace, Namespaces.agent);
    const data = secret.data as Record<string, string>;
    assert.equal(Buffer.from(data[SecretKeys.kubeconfig]!, "base64").toString(), kubeconfig);
  });

  test("refuses manifests whose Deployment has no --cluster-name to fill", async () => {
    const objects = (await readDeployManifests("agent")).filter((object) => object.kind !== "Deployment");
    assert.throws(() => agentDeployManifests(objects, { clusterName: "east" }), /found 0/);
  });
});

describe("manifestStream", () => {
  test("parses back to the same objects, one document each", async () => {
    const objects = agentDeployManifests(await readDeployManifests("agent"), {
      clusterName: "east",
      bootstrapKubeconfig: "a: b\n",
    });
    const stream = manifestStream(objects);
    assert.deepEqual(parseManifests(stream, "stream"), objects);
    assert.equal(stream.split(/^---$/m).length, objects.length);
    // The kubeconfig ConfigMap's multi-line string stays a readable block, not a quoted line.
    const configMap = objects.findIndex((object) => object.kind === "ConfigMap");
    const document = stream.split(/^---$/m)[configMap]!;
    assert.match(document, /^ {2}kubeconfig: \|/m);
    assert.deepEqual((parse(document) as Unstructured).data, objects[configMap]!.data);
  });

  test("a broken document is an error naming its source", () => {
    assert.throws(() => parseManifests("a: [\n", "broken.yaml"), { message: /^broken\.yaml: / });
  });
});
