import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { buildHelmScript, defaultHelmCacheRoot, helmBinary, parseHelmPin, runHelm } from "./binaries.ts";

describe("defaultHelmCacheRoot", () => {
  const cases: { name: string; env: Parameters<typeof defaultHelmCacheRoot>[0]; want: string }[] = [
    { name: "under the home's .cache", env: {}, want: "/home/u/.cache/bosun/helm" },
    { name: "under XDG_CACHE_HOME", env: { XDG_CACHE_HOME: "/xdg" }, want: "/xdg/bosun/helm" },
    {
      name: "an empty XDG_CACHE_HOME is unset",
      env: { XDG_CACHE_HOME: "" },
      want: "/home/u/.cache/bosun/helm",
    },
    {
      name: "the override wins",
      env: { BOSUN_HELM_CACHE: "/cache", XDG_CACHE_HOME: "/xdg" },
      want: "/cache",
    },
  ];
  for (const { name, env, want } of cases) {
    test(name, () => assert.equal(defaultHelmCacheRoot(env, "/home/u"), want));
  }
});

describe("parseHelmPin", () => {
  const cases: { name: string; text: string; want?: string }[] = [
    { name: "the version line among comments", text: "# helm\nHELM_VERSION=v4.3.2\n", want: "v4.3.2" },
    { name: "no version line", text: "# helm\n" },
    { name: "a version without its v", text: "HELM_VERSION=4.3.2\n" },
  ];
  for (const { name, text, want } of cases) {
    test(name, () => {
      if (want) assert.equal(parseHelmPin(text), want);
      else assert.throws(() => parseHelmPin(text), /names no HELM_VERSION/);
    });
  }
  test("the shipped pin is helm 4, which build.sh builds from helm.sh/helm/v4", async () => {
    const version = parseHelmPin(await readFile(join(import.meta.dirname, "pin.env"), "utf8"));
    assert.match(version, /^v4\./);
    const script = await readFile(join(import.meta.dirname, "build.sh"), "utf8");
    assert.ok(script.includes("helm.sh/helm/v4/cmd/helm@${version}"));
    assert.ok(script.includes("HELM_VERSION"));
  });
});

describe("helmBinary", () => {
  const roots: string[] = [];
  after(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));
  const scratch = async () => {
    const root = await mkdtemp(join(tmpdir(), "bosun-helm-test-"));
    roots.push(root);
    return root;
  };

  test("names the npm script when the cache lacks the binary", async () => {
    const root = await scratch();
    await assert.rejects(helmBinary({ cacheRoot: root }), (error: Error) => {
      assert.ok(error.message.includes(buildHelmScript), error.message);
      assert.ok(error.message.includes(root), error.message);
      return true;
    });
  });

  test("finds the cached binary under its version and runs it", async () => {
    const root = await scratch();
    const version = parseHelmPin(await readFile(join(import.meta.dirname, "pin.env"), "utf8"));
    await mkdir(join(root, version));
    const fake = join(root, version, "helm");
    await writeFile(fake, '#!/bin/sh\necho "args: $*"\necho oops >&2\nexit 3\n');
    await chmod(fake, 0o755);
    const helm = await helmBinary({ cacheRoot: root });
    assert.deepEqual(helm, { version, path: fake });
    assert.deepEqual(await runHelm(helm, ["template", "x"]), {
      code: 3,
      stdout: "args: template x\n",
      stderr: "oops\n",
    });
  });
});
