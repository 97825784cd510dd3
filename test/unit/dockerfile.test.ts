// deploy/Dockerfile, checked statically: this machine has no container builder (the docker CLI
// has no daemon to talk to; neither podman nor buildah is installed), so the image is not built
// here. What can be checked without building it: every file it copies exists, its Node major is
// the one package.json asks for, its entry point is the CLI it copies, and the commands the
// Deployments of deploy/ give it are commands and flags that CLI has.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, test } from "node:test";
import type { Command } from "commander";
import { buildProgram } from "../../cli/bosun.ts";
import { deployRoot, readDeployManifests } from "../../cli/commands/deploy-manifests.ts";
import { crdRoot } from "../../runtime/crds.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";

const repo = resolve(import.meta.dirname, "..", "..");
const dockerfile = readFileSync(join(repo, "deploy", "Dockerfile"), "utf8");
const instructions = dockerfile
  .split("\n")
  .filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"))
  .map((line) => {
    const [keyword = "", ...rest] = line.trim().split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest };
  });
const ofKeyword = (keyword: string) => instructions.filter((instruction) => instruction.keyword === keyword);

/** The build-context sources of COPY instructions (those from another stage left out). */
const copiedSources = ofKeyword("COPY")
  .filter(({ args }) => !args.some((arg) => arg.startsWith("--from=")))
  .flatMap(({ args }) => args.filter((arg) => !arg.startsWith("--")).slice(0, -1));

/** Where the final stage puts each build-context source (WORKDIR /app). */
const inImage = (path: string) => {
  const relativePath = relative(repo, path);
  return copiedSources.some((source) => relativePath === source || relativePath.startsWith(`${source}/`));
};

const packageJson = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const majorOf = (version: string) => Number(/(\d+)/.exec(version)?.[1]);

const entrypoint = JSON.parse(ofKeyword("ENTRYPOINT").at(-1)!.args.join(" ")) as string[];

interface Container {
  command: string[];
}

interface PodSpec {
  securityContext: { runAsUser: number; runAsGroup: number };
  containers: Container[];
}

const podSpecs = (objects: Unstructured[]) =>
  objects
    .filter((object) => object.kind === "Deployment")
    .map((object) => (object.spec as { template: { spec: PodSpec } }).template.spec);

/** The long flags a command accepts (its own options; commander adds --help). */
const flagsOf = (command: Command) => new Set([...command.options.map((option) => option.long), "--help"]);

describe("deploy/Dockerfile", () => {
  test("every file and folder it copies exists", () => {
    assert.ok(copiedSources.length > 5, `sources: ${copiedSources.join(", ")}`);
    for (const source of copiedSources) assert.ok(existsSync(join(repo, source)), `${source} is missing`);
  });

  test("its Node major is the one package.json's engines and node devDependency name", () => {
    const bases = ofKeyword("FROM").map(({ args }) => args[0]!);
    assert.ok(bases.length > 0);
    const nodeMajor = majorOf(packageJson.engines.node);
    assert.equal(nodeMajor, 24);
    assert.equal(majorOf(packageJson.devDependencies.node!), nodeMajor);
    for (const base of bases) {
      assert.match(base, /^node:\d+/, `${base} is a Node image`);
      assert.equal(majorOf(base.slice("node:".length)), nodeMajor, base);
    }
  });

  test("its entry point runs the CLI it copies", () => {
    assert.equal(entrypoint[0], "node");
    const script = entrypoint.find((arg) => arg.endsWith(".ts"));
    assert.equal(script, "cli/bosun.ts");
    assert.ok(inImage(join(repo, script)), `${script} is copied`);
    assert.ok(existsSync(join(repo, script)));
  });

  test("it holds what the CLI reads at run time: the CRDs and the in-cluster manifests", () => {
    for (const dir of [
      join(crdRoot, "hub"),
      join(crdRoot, "managed"),
      join(deployRoot, "hub"),
      join(deployRoot, "agent"),
    ]) {
      assert.ok(inImage(dir), `${relative(repo, dir)} is not copied`);
    }
  });

  test("it runs as the user the Deployments' securityContext names", async () => {
    const [user, group] = ofKeyword("USER").at(-1)!.args[0]!.split(":").map(Number);
    for (const component of ["hub", "agent"] as const) {
      for (const pod of podSpecs(await readDeployManifests(component))) {
        assert.deepEqual([pod.securityContext.runAsUser, pod.securityContext.runAsGroup], [user, group]);
      }
    }
  });

  test("the Deployments run a command the CLI has, with flags it accepts", async () => {
    const program = buildProgram();
    const expected = { hub: "hub", agent: "agent" } as const;
    for (const component of ["hub", "agent"] as const) {
      const pods = podSpecs(await readDeployManifests(component));
      assert.equal(pods.length, 1, component);
      for (const { command } of pods[0]!.containers) {
        const script = command.indexOf(entrypoint.at(-1)!);
        // The same interpreter and flags as the image's entry point, then the subcommand.
        assert.deepEqual(command.slice(0, script + 1), entrypoint, component);
        const [name, ...args] = command.slice(script + 1);
        assert.equal(name, expected[component]);
        const subcommand = program.commands.find((candidate) => candidate.name() === name);
        assert.ok(subcommand, `bosun has no command ${name}`);
        const accepted = flagsOf(subcommand);
        const unknown = args.filter((arg) => arg.startsWith("--") && !accepted.has(arg.split("=")[0]));
        assert.deepEqual(unknown, [], `${component}: flags bosun ${name} does not accept`);
        assert.ok(args.length > 0);
      }
    }
  });
});
