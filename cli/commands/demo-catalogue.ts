// The demo's large workload: a shop catalogue bigger than one ManifestWork may carry (and than
// one ManifestWorkReplicaSet should), written as files a user could have written: a CRD for
// products, a namespace, the products as custom resources, and price lists as ConfigMaps.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";

const group = "shop.example.com";

const crd = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `products.${group}` },
  spec: {
    group,
    names: { kind: "Product", plural: "products", singular: "product", listKind: "ProductList" },
    scope: "Namespaced",
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: {
                type: "object",
                properties: {
                  sku: { type: "string" },
                  title: { type: "string" },
                  description: { type: "string" },
                  priceCents: { type: "integer" },
                  tags: { type: "array", items: { type: "string" } },
                },
              },
            },
          },
        },
      },
    ],
  },
};

const words = [
  "ash",
  "birch",
  "cedar",
  "linen",
  "wool",
  "oak",
  "copper",
  "slate",
  "amber",
  "olive",
  "harbour",
  "meadow",
  "granite",
  "willow",
  "ember",
  "tide",
  "fjord",
  "heather",
  "maple",
  "pebble",
];

/** A deterministic sentence generator, so that every run ships the same catalogue. */
function sentence(seed: number, length: number): string {
  let state = (seed * 2654435761) >>> 0;
  const out: string[] = [];
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out.push(words[state % words.length]!);
  }
  return out.join(" ");
}

/** Writes the catalogue into `dir` (replacing what is there); returns the files' total bytes. */
export async function writeCatalogue(dir: string, products = 700): Promise<{ files: number; bytes: number }> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, "products"), { recursive: true });
  let bytes = 0;
  let files = 0;
  const write = async (file: string, objects: unknown[]) => {
    const text = objects.map((object) => stringify(object)).join("---\n");
    await writeFile(join(dir, file), text);
    bytes += Buffer.byteLength(text);
    files++;
  };
  await write("00-crd.yaml", [crd]);
  await write("01-namespace.yaml", [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "catalogue" } },
  ]);
  for (let batch = 0; batch < products / 100; batch++) {
    const items = Array.from({ length: 100 }, (_, i) => {
      const n = batch * 100 + i;
      return {
        apiVersion: `${group}/v1`,
        kind: "Product",
        metadata: { name: `product-${String(n).padStart(4, "0")}`, namespace: "catalogue" },
        spec: {
          sku: `SKU-${String(100000 + n * 7)}`,
          title: sentence(n, 4),
          description: sentence(n + 1, 300),
          priceCents: 500 + ((n * 137) % 20000),
          tags: sentence(n + 2, 3).split(" "),
        },
      };
    });
    await write(`products/batch-${batch}.yaml`, items);
  }
  await write(
    "02-price-lists.yaml",
    ["eur", "usd", "gbp"].map((currency, i) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `prices-${currency}`, namespace: "catalogue" },
      data: { currency, list: sentence(1000 + i, 3000) },
    })),
  );
  return { files, bytes };
}
