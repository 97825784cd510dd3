import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  defaultPrometheusCacheRoot,
  parsePin,
  pinnedPrometheusVersion,
  prometheusBinaries,
  runPromtool,
} from "./binaries.ts";

describe("defaultPrometheusCacheRoot", () => {
  const cases: { name: string; env: Parameters<typeof defaultPrometheusCacheRoot>[0]; want: string }[] = [
    { name: "under the home's .cache", env: {}, want: "/home/u/.cache/bosun/prometheus" },
    { name: "under XDG_CACHE_HOME", env: { XDG_CACHE_HOME: "/xdg" }, want: "/xdg/bosun/prometheus" },
    {
      name: "an empty XDG_CACHE_HOME is unset",
      env: { XDG_CACHE_HOME: "" },
      want: "/home/u/.cache/bosun/prometheus",
    },
    {
      name: "the override wins",
      env: { BOSUN_PROMETHEUS_CACHE: "/cache", XDG_CACHE_HOME: "/xdg" },
      want: "/cache",
    },
  ];
  for (const { name, env, want } of cases) {
    test(name, () => assert.equal(defaultPrometheusCacheRoot(env, "/home/u"), want));
  }
});

describe("parsePin", () => {
  test("reads KEY=VALUE lines, skipping comments and blanks", () => {
    assert.deepEqual(parsePin("# the pin\n\nA_1=2.42.0+ds-5+b6\nB=x=y\n"), {
      A_1: "2.42.0+ds-5+b6",
      B: "x=y",
    });
  });
  test("refuses anything else", () => {
    assert.throws(() => parsePin("export A=1\n"), /unreadable line/);
  });
  test("the shipped pin names the version, package file and checksum fetch.sh uses", async () => {
    const pin = parsePin(await readFile(join(import.meta.dirname, "pin.env"), "utf8"));
    const version = pin.PROMETHEUS_DEB_VERSION!;
    assert.match(version, /^2\.42\.\d+/);
    assert.equal(
      pin.PROMETHEUS_DEB_POOL_PATH,
      `pool/main/p/prometheus/prometheus_${version}_${pin.PROMETHEUS_DEB_ARCH}.deb`,
    );
    assert.match(pin.PROMETHEUS_DEB_SHA256!, /^[0-9a-f]{64}$/);
    const script = await readFile(join(import.meta.dirname, "fetch.sh"), "utf8");
    for (const key of Object.keys(pin)) assert.ok(script.includes(key), `fetch.sh does not use ${key}`);
  });
});

describe("prometheusBinaries", () => {
  const roots: string[] = [];
  after(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));
  const cacheWith = async (files: string[]) => {
    const root = await mkdtemp(join(tmpdir(), "bosun-prometheus-cache-"));
    roots.push(root);
    const dir = join(root, await pinnedPrometheusVersion());
    await mkdir(dir);
    for (const file of files) {
      await writeFile(join(dir, file), '#!/bin/sh\necho "$@"\nexit 3\n');
      await chmod(join(dir, file), 0o755);
    }
    return { root, dir };
  };

  test("finds both binaries under the pinned version", async () => {
    const { root, dir } = await cacheWith(["prometheus", "promtool"]);
    const binaries = await prometheusBinaries({ cacheRoot: root });
    assert.deepEqual(binaries, {
      version: await pinnedPrometheusVersion(),
      dir,
      prometheus: join(dir, "prometheus"),
      promtool: join(dir, "promtool"),
    });
  });

  test("names the npm script to run when a binary is missing", async () => {
    const { root } = await cacheWith(["prometheus"]);
    await assert.rejects(
      prometheusBinaries({ cacheRoot: root }),
      /promtool is missing\): run `npm run build:prometheus`/,
    );
  });

  test("runPromtool reports a failing check as its exit code and output", async () => {
    const { root } = await cacheWith(["prometheus", "promtool"]);
    const binaries = await prometheusBinaries({ cacheRoot: root });
    assert.deepEqual(await runPromtool(binaries, ["check", "rules", "x.yaml"]), {
      code: 3,
      stdout: "check rules x.yaml\n",
      stderr: "",
    });
  });

  test("runPromtool throws when promtool cannot run at all", async () => {
    await assert.rejects(runPromtool({ promtool: "/nonexistent/promtool" }, ["--version"]), /cannot run/);
  });
});
