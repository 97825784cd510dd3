import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PolicyAnnotations } from "../api/constants.ts";
import type { Policy, PolicyTemplate } from "../api/types/policy.ts";
import { type ClusterReader, MemoryCluster, ReadPending } from "./cluster.ts";
import type { Json } from "./gofmt.ts";
import { executeTemplate, StructValue } from "./gotemplate-exec.ts";
import { parseTemplate, TemplateParseError } from "./gotemplate-parse.ts";
import {
  decryptEncryptedStrings,
  DecryptionError,
  decryptValue,
  encryptionKeyOf,
  encryptionKeySecret,
  encryptValue,
  type HubTemplateContext,
  type HubTemplateOptions,
  hubDelimiters,
  hubTemplatesFailed,
  hubTemplatesNeedEncryption,
  hubTemplatesReadClusterLabels,
  newEncryptionKey,
  policyHasHubTemplates,
  resolveHubTemplates,
  serviceAccountMissingMessage,
} from "./hub-templates.ts";
import { templateFunctions } from "./template-funcs.ts";
import { processForAutoIndent, processForDataTypes } from "./templates.ts";
import { parseKubeYaml } from "./yaml.ts";

const hub = new MemoryCluster(
  parseKubeYaml(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: managedclusters.cluster.open-cluster-management.io}
spec:
  group: cluster.open-cluster-management.io
  names: {kind: ManagedCluster, plural: managedclusters}
  scope: Cluster
  versions: [{name: v1, served: true}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: clusterclaims.cluster.open-cluster-management.io}
spec:
  group: cluster.open-cluster-management.io
  names: {kind: ClusterClaim, plural: clusterclaims}
  scope: Cluster
  versions: [{name: v1alpha1, served: true}]
---
apiVersion: cluster.open-cluster-management.io/v1
kind: ManagedCluster
metadata: {name: cluster1, labels: {env: prod, vendor: OpenShift}}
---
apiVersion: cluster.open-cluster-management.io/v1
kind: ManagedCluster
metadata: {name: cluster2, labels: {env: dev}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: policies, labels: {app: web}}
data: {region: eu, replicas: "3", enabled: "true", multi: "a: 1\\nb: 2"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: other}
data: {region: us}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: policies}
data: {password: aHVudGVyMg==, user: YWRtaW4=}
`).map((document) => document.value as never),
);

const context: HubTemplateContext = {
  cluster: "cluster1",
  clusterLabels: { env: "prod", vendor: "OpenShift" },
  policy: {
    name: "web",
    namespace: "policies",
    labels: { team: "blue" },
    annotations: { "policy.open-cluster-management.io/standards": "NIST" },
  },
};

const key = Buffer.alloc(32, 1);
const fixedIv = Buffer.alloc(16, 7);

function options(overrides: Partial<HubTemplateOptions> = {}): HubTemplateOptions {
  return { reader: hub, randomBytes: (size) => Buffer.alloc(size, 7), encryptionKey: key, ...overrides };
}

function configurationPolicy(spec: Record<string, unknown>): PolicyTemplate {
  return {
    objectDefinition: {
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "ConfigurationPolicy",
      metadata: { name: "cp" },
      spec,
    },
  };
}

function policyOf(templates: PolicyTemplate[], annotations?: Record<string, string>): Policy {
  return {
    apiVersion: "policy.open-cluster-management.io/v1",
    kind: "Policy",
    metadata: { name: "web", namespace: "policies", ...(annotations ? { annotations } : {}) },
    spec: { disabled: false, "policy-templates": templates },
  };
}

/** Resolves one template whose spec is `{ value: <text> }` and returns the resolved value. */
function resolveValue(text: string, overrides: Partial<HubTemplateOptions> = {}) {
  const result = resolveHubTemplates(
    policyOf([configurationPolicy({ value: text })]),
    context,
    options(overrides),
  );
  const spec = result.templates[0]!.objectDefinition.spec as { value?: unknown };
  return { result, value: spec.value };
}

function annotationsOf(template: PolicyTemplate): Record<string, string> {
  return template.objectDefinition.metadata?.annotations ?? {};
}

describe("custom delimiters in the Go template parser", () => {
  const funcs = templateFunctions({ reader: hub, onSensitiveData: () => undefined });
  const run = (text: string) =>
    executeTemplate(
      parseTemplate(text, (name) => Object.hasOwn(funcs, name), hubDelimiters.start, hubDelimiters.end),
      funcs,
      new StructValue({ Name: "c1" }, { Name: "string" }),
    );
  const cases: [string, string, string][] = [
    ["an action", "x: {{hub .Name hub}}", "x: c1"],
    ["default delimiters stay text", "{{ .Name }}/{{hub .Name hub}}", "{{ .Name }}/c1"],
    ["trim markers", "a  {{hub- .Name -hub}}  b", "ac1b"],
    ["a comment", "a{{hub/* note */hub}}b", "ab"],
    ["a pipeline", '{{hub "x" | upper hub}}', "X"],
    ["control structures", "{{hub if .Name hub}}yes{{hub else hub}}no{{hub end hub}}", "yes"],
    ["a string holding the end delimiter", '{{hub "hub}}" hub}}', "hub}}"],
  ];
  for (const [name, text, expected] of cases) test(name, () => assert.equal(run(text), expected));

  const errors: [string, string, RegExp][] = [
    ["an unclosed action", "{{hub .Name", /^1: unclosed action$/],
    ["a stray end", "{{hub end hub}}", /unexpected \{\{end\}\}/],
  ];
  for (const [name, text, expected] of errors)
    test(`refuses ${name}`, () =>
      assert.throws(
        () => run(text),
        (error: Error) => error instanceof TemplateParseError && expected.test(error.message),
      ));
});

describe("pre-processing with hub delimiters", () => {
  test("unquotes typed values inside hub delimiters only", () => {
    const text = "a: '{{hub \"3\" | toInt hub}}'\nb: '{{ \"3\" | toInt }}'\n";
    assert.equal(
      processForDataTypes(text, hubDelimiters),
      'a: {{hub "3" | toInt hub}}\nb: \'{{ "3" | toInt }}\'\n',
    );
  });
  test("autoindent subtracts the additional indentation", () => {
    const text = '          {{hub "x" | autoindent hub}}';
    assert.equal(processForAutoIndent(text, hubDelimiters, 8), '          {{hub "x" | indent 2 hub}}');
  });
});

describe("resolveHubTemplates: values", () => {
  const cases: [name: string, template: string, expected: unknown][] = [
    ["cluster name", "{{hub .ManagedClusterName hub}}", "cluster1"],
    ["cluster label", "{{hub .ManagedClusterLabels.vendor hub}}", "OpenShift"],
    [
      "missing label via index is empty, as in a Go map[string]string",
      '{{hub index .ManagedClusterLabels "zone" hub}}',
      "",
    ],
    ["policy name", "{{hub .PolicyMetadata.name hub}}", "web"],
    ["policy namespace", "{{hub .PolicyMetadata.namespace hub}}", "policies"],
    ["policy label", "{{hub .PolicyMetadata.labels.team hub}}", "blue"],
    [
      "policy annotation",
      '{{hub index .PolicyMetadata.annotations "policy.open-cluster-management.io/standards" hub}}',
      "NIST",
    ],
    [
      "fromConfigMap in the policy namespace",
      '{{hub fromConfigMap "policies" "settings" "region" hub}}',
      "eu",
    ],
    [
      "fromConfigMap without a namespace reads the policy namespace",
      '{{hub fromConfigMap "" "settings" "region" hub}}',
      "eu",
    ],
    [
      "lookup with a label selector in the policy namespace",
      '{{hub (index (lookup "v1" "ConfigMap" "" "" "app=web").items 0).metadata.name hub}}',
      "settings",
    ],
    [
      "the cluster's own ManagedCluster",
      '{{hub (lookup "cluster.open-cluster-management.io/v1" "ManagedCluster" "" "cluster1").metadata.labels.env hub}}',
      "prod",
    ],
    [
      "a missing ConfigMap is an empty lookup",
      '{{hub (lookup "v1" "ConfigMap" "policies" "nope").metadata hub}}',
      "<no value>",
    ],
    ["toInt keeps its type", '{{hub fromConfigMap "" "settings" "replicas" | toInt hub}}', 3],
    ["toBool keeps its type", '{{hub fromConfigMap "" "settings" "enabled" | toBool hub}}', true],
    [
      "copyConfigMapData is a map",
      '{{hub copyConfigMapData "" "settings" hub}}',
      {
        enabled: "true",
        multi: "a: 1\nb: 2",
        region: "eu",
        replicas: "3",
      },
    ],
    [
      "managed-cluster templates pass through",
      '{{ fromSecret "ns" "s" "k" }}',
      '{{ fromSecret "ns" "s" "k" }}',
    ],
    [
      "both kinds together",
      "{{hub .ManagedClusterName hub}}-{{ .ObjectName }}",
      "cluster1-{{ .ObjectName }}",
    ],
  ];
  for (const [name, template, expected] of cases) {
    test(name, () => {
      const { result, value } = resolveValue(template);
      assert.deepEqual(result.errors, []);
      assert.deepEqual(value, expected);
    });
  }

  test("indent and autoindent add OCM's eight spaces of an object template", () => {
    for (const pipe of ["autoindent", "indent 2"]) {
      const raw = [
        "- complianceType: musthave",
        "  objectDefinition:",
        "    kind: ConfigMap",
        "    data:",
        `      {{hub fromConfigMap "" "settings" "multi" | ${pipe} hub}}`,
        "",
      ].join("\n");
      const result = resolveHubTemplates(
        policyOf([configurationPolicy({ "object-templates-raw": raw })]),
        context,
        options(),
      );
      assert.deepEqual(result.errors, [], pipe);
      const spec = result.templates[0]!.objectDefinition.spec as Record<string, string>;
      assert.equal(
        spec["object-templates-raw"],
        "- complianceType: musthave\n  objectDefinition:\n    kind: ConfigMap\n    data:\n      a: 1\n      b: 2\n",
        pipe,
      );
    }
  });
});

describe("resolveHubTemplates: lookup restriction", () => {
  const refused: [name: string, template: string, message: string][] = [
    [
      "fromConfigMap in another namespace",
      '{{hub fromConfigMap "other" "settings" "region" hub}}',
      "error calling fromConfigMap: failed getting the ConfigMap settings from other: the namespace argument is restricted to policies",
    ],
    [
      "lookup in another namespace",
      '{{hub (lookup "v1" "ConfigMap" "other" "settings").data.region hub}}',
      "error calling lookup: the namespace argument is restricted to policies",
    ],
    [
      "fromSecret in another namespace",
      '{{hub fromSecret "other" "creds" "password" hub}}',
      "error calling fromSecret: failed to get the secret creds from other: the namespace argument is restricted to policies",
    ],
    [
      "another cluster's ManagedCluster",
      '{{hub (lookup "cluster.open-cluster-management.io/v1" "ManagedCluster" "" "cluster2").metadata.name hub}}',
      "error calling lookup: lookup of cluster-scoped resource 'ManagedCluster/cluster2' is not allowed",
    ],
    [
      "a list of ManagedClusters",
      '{{hub (lookup "cluster.open-cluster-management.io/v1" "ManagedCluster" "" "").items hub}}',
      "error calling lookup: lookup of cluster-scoped resource 'ManagedCluster/' is not allowed",
    ],
    [
      "a cluster claim",
      '{{hub fromClusterClaim "id" hub}}',
      "error calling fromClusterClaim: lookup of cluster-scoped resource 'ClusterClaim/id' is not allowed",
    ],
    [
      "nodes",
      '{{hub getNodesWithExactRoles "infra" hub}}',
      "error calling getNodesWithExactRoles: lookup of cluster-scoped resource 'Node/' is not allowed",
    ],
  ];
  for (const [name, template, message] of refused) {
    test(`refuses ${name}`, () => {
      const { result } = resolveValue(template);
      assert.equal(result.errors.length, 1);
      assert.ok(
        result.errors[0]!.message.startsWith("failed to resolve the template {"),
        result.errors[0]!.message,
      );
      assert.ok(result.errors[0]!.message.endsWith(`: ${message}`), result.errors[0]!.message);
      // A refused lookup reads nothing.
      assert.deepEqual(
        result.reads.filter((read) => read.namespace === "other" || read.name === "cluster2"),
        [],
      );
    });
  }

  const allowedWhenUnrestricted: [name: string, template: string, expected: string][] = [
    ["another namespace", '{{hub fromConfigMap "other" "settings" "region" hub}}', "us"],
    [
      "another cluster",
      '{{hub (lookup "cluster.open-cluster-management.io/v1" "ManagedCluster" "" "cluster2").metadata.labels.env hub}}',
      "dev",
    ],
  ];
  for (const [name, template, expected] of allowedWhenUnrestricted) {
    test(`with a service account, reads ${name}`, () => {
      const { result, value } = resolveValue(template, { unrestricted: true });
      assert.deepEqual(result.errors, []);
      assert.equal(value, expected);
    });
  }

  test("an empty namespace is still refused for fromConfigMap when unrestricted", () => {
    const { result } = resolveValue('{{hub fromConfigMap "" "settings" "region" hub}}', {
      unrestricted: true,
    });
    assert.match(
      result.errors[0]!.message,
      /error calling fromConfigMap: the input is invalid: namespace, name, and key must be specified$/,
    );
  });
});

describe("resolveHubTemplates: errors", () => {
  const definitionJson =
    '{"apiVersion":"policy.open-cluster-management.io/v1","kind":"ConfigurationPolicy","metadata":{"name":"cp"},"spec":{"value":"{{hub nope hub}}"}}';
  const cases: [name: string, template: string, message: string | RegExp, retryable: boolean][] = [
    [
      "an unknown function (parse error)",
      "{{hub nope hub}}",
      `failed to parse the template JSON string ${definitionJson}: template: tmpl:6: function "nope" not defined`,
      false,
    ],
    [
      "an unknown context field",
      "{{hub .ClusterName hub}}",
      /: template: tmpl:6:\d+: executing "tmpl" at <\.ClusterName>: can't evaluate field ClusterName in type propagator\.templateCtx$/,
      false,
    ],
    [
      "a kind the hub does not serve",
      '{{hub lookup "example.com/v1" "Widget" "" "w" hub}}',
      /error calling lookup: one or more API resources are not installed on the API server$/,
      true,
    ],
    [
      "a missing ConfigMap for fromConfigMap",
      '{{hub fromConfigMap "" "nope" "k" hub}}',
      /error calling fromConfigMap: failed getting the ConfigMap nope from : configmaps "nope" not found$/,
      false,
    ],
    [
      "protect called without a pipe (encryption stays off)",
      '{{hub protect "x" hub}}',
      /error calling protect: the protect template function is not enabled in this mode$/,
      false,
    ],
  ];
  for (const [name, template, message, retryable] of cases) {
    test(name, () => {
      const { result } = resolveValue(template);
      assert.equal(result.errors.length, 1);
      const error = result.errors[0]!;
      assert.equal(error.index, 0);
      if (typeof message === "string") assert.equal(error.message, message);
      else assert.match(error.message, message);
      assert.equal(error.retryable, retryable);
      const failed = result.templates[0]!;
      assert.equal(annotationsOf(failed)[PolicyAnnotations.hubTemplatesError], error.message);
      // The definition is kept unresolved.
      assert.equal((failed.objectDefinition.spec as { value: string }).value, template);
    });
  }

  test("a failing template does not stop the others", () => {
    const plain = configurationPolicy({ value: "no templates" });
    const policy = policyOf([
      configurationPolicy({ value: "{{hub nope hub}}" }),
      { ...configurationPolicy({ value: "{{hub .ManagedClusterName hub}}" }), ignorePending: true },
      plain,
    ]);
    const result = resolveHubTemplates(policy, context, options());
    assert.deepEqual(
      result.errors.map((error) => error.index),
      [0],
    );
    assert.equal((result.templates[1]!.objectDefinition.spec as { value: string }).value, "cluster1");
    assert.equal(result.templates[1]!.ignorePending, true, "other template fields are kept");
    assert.equal(annotationsOf(result.templates[1]!)[PolicyAnnotations.hubTemplatesError], undefined);
    assert.equal(result.templates[2], plain);
    // The input is not changed.
    assert.equal(
      annotationsOf(policy.spec["policy-templates"][0]!)[PolicyAnnotations.hubTemplatesError],
      undefined,
    );
  });

  test("the error annotation joins the template's own annotations", () => {
    const template = configurationPolicy({ value: "{{hub nope hub}}" });
    template.objectDefinition.metadata = { name: "cp", annotations: { keep: "me" } };
    const result = resolveHubTemplates(policyOf([template]), context, options());
    assert.deepEqual(Object.keys(annotationsOf(result.templates[0]!)), [
      "keep",
      PolicyAnnotations.hubTemplatesError,
    ]);
  });

  test("a ReadPending from the reader passes through", () => {
    const pending: ClusterReader = {
      resolveKind: (apiVersion, kind) => hub.resolveKind(apiVersion, kind),
      get: (mapping, namespace, name) => {
        throw new ReadPending({ op: "get", mapping, namespace, name });
      },
      list: () => [],
      namespaces: () => [],
    };
    assert.throws(
      () => resolveValue('{{hub fromConfigMap "" "settings" "region" hub}}', { reader: pending }),
      ReadPending,
    );
  });

  test("a missing hub-template service account fails every hub template", () => {
    const message = serviceAccountMissingMessage("policies", "reader");
    assert.equal(
      message,
      "the service account in hubTemplateOptions.serviceAccountName (policies/reader) does not exist",
    );
    const result = hubTemplatesFailed(
      policyOf([
        configurationPolicy({ value: "{{hub .ManagedClusterName hub}}" }),
        configurationPolicy({ value: "x" }),
      ]),
      message,
    );
    assert.deepEqual(result.errors, [{ index: 0, message, retryable: false }]);
    assert.equal(annotationsOf(result.templates[0]!)[PolicyAnnotations.hubTemplatesError], message);
    assert.deepEqual(annotationsOf(result.templates[1]!), {});
  });
});

describe("resolveHubTemplates: disable-templates", () => {
  const cases: [value: string, disabled: boolean][] = [
    ["true", true],
    ["True", true],
    ["1", true],
    ["false", false],
    ["yes", false],
  ];
  for (const [value, disabled] of cases) {
    test(`"${value}" ${disabled ? "disables" : "does not disable"} resolution`, () => {
      const policy = policyOf([configurationPolicy({ value: "{{hub .ManagedClusterName hub}}" })], {
        [PolicyAnnotations.disableTemplates]: value,
      });
      const result = resolveHubTemplates(policy, context, options());
      const resolved = (result.templates[0]!.objectDefinition.spec as { value: string }).value;
      assert.equal(resolved, disabled ? "{{hub .ManagedClusterName hub}}" : "cluster1");
      assert.deepEqual(result.errors, []);
    });
  }
});

describe("resolveHubTemplates: reads", () => {
  test("records every object read, the cluster for its labels, and lists with their selector", () => {
    const policy = policyOf([
      configurationPolicy({
        a: '{{hub fromConfigMap "" "settings" "region" hub}}',
        b: '{{hub fromConfigMap "" "absent" "x" | default "none" hub}}',
      }),
      configurationPolicy({
        c: '{{hub (lookup "v1" "ConfigMap" "policies" "" "app=web").items hub}}',
        d: "{{hub .ManagedClusterLabels.env hub}}",
      }),
    ]);
    const result = resolveHubTemplates(policy, context, options());
    assert.deepEqual(result.reads, [
      { apiVersion: "v1", kind: "ConfigMap", namespace: "policies", name: "settings" },
      { apiVersion: "v1", kind: "ConfigMap", namespace: "policies", name: "absent" },
      {
        apiVersion: "cluster.open-cluster-management.io/v1",
        kind: "ManagedCluster",
        namespace: "",
        name: "cluster1",
      },
      { apiVersion: "v1", kind: "ConfigMap", namespace: "policies", labelSelector: "app=web" },
    ]);
  });
});

describe("encryption", () => {
  const expectedIv = fixedIv.toString("base64");

  test("protect, fromSecret and copySecretData encrypt values that decryptValue reverses", () => {
    const policy = policyOf([
      configurationPolicy({
        protected: '{{hub "hunter2" | protect hub}}',
        secret: '{{hub fromSecret "" "creds" "password" hub}}',
        copied: '{{hub copySecretData "policies" "creds" hub}}',
        empty: '{{hub "" | protect hub}}',
      }),
      configurationPolicy({ plain: "{{hub .ManagedClusterName hub}}" }),
    ]);
    assert.equal(hubTemplatesNeedEncryption(policy), true);
    const result = resolveHubTemplates(policy, context, options());
    assert.deepEqual(result.errors, []);
    assert.equal(result.usesEncryption, true);
    assert.deepEqual(result.annotations, { [PolicyAnnotations.encryptionIv]: expectedIv });
    const [encrypted, plain] = result.templates;
    assert.equal(annotationsOf(encrypted!)[PolicyAnnotations.encryptionIv], expectedIv);
    assert.equal(
      annotationsOf(plain!)[PolicyAnnotations.encryptionIv],
      undefined,
      "only encrypting templates",
    );
    const spec = encrypted!.objectDefinition.spec as {
      protected: string;
      secret: string;
      copied: Record<string, string>;
      empty: string;
    };
    // Independently computed: openssl enc -aes-256-cbc with this key and IV.
    assert.equal(spec.protected, "$ocm_encrypted:rtXbFGIp9Q9CASuN95yRmQ==");
    const keys = { key, iv: fixedIv };
    assert.equal(decryptValue(spec.protected, keys), "hunter2");
    // fromSecret encrypts the value as the Secret stores it (base64).
    assert.equal(decryptValue(spec.secret, keys), "aHVudGVyMg==");
    assert.deepEqual(Object.keys(spec.copied), ["password", "user"]);
    assert.equal(decryptValue(spec.copied.password!, keys), "aHVudGVyMg==");
    assert.equal(decryptValue(spec.copied.user!, keys), "YWRtaW4=");
    assert.equal(spec.empty, "", "protect leaves an empty string alone");
  });

  test("the replica's IV is reused, so the output is stable", () => {
    const policy = policyOf([configurationPolicy({ value: '{{hub "hunter2" | protect hub}}' })]);
    const currentIv = Buffer.alloc(16, 9).toString("base64");
    const first = resolveHubTemplates(
      policy,
      context,
      options({ currentIv, randomBytes: (n) => Buffer.alloc(n, 1) }),
    );
    const second = resolveHubTemplates(
      policy,
      context,
      options({ currentIv, randomBytes: (n) => Buffer.alloc(n, 2) }),
    );
    assert.deepEqual(first.templates, second.templates);
    assert.equal(first.annotations[PolicyAnnotations.encryptionIv], currentIv);
  });

  const invalidIvs: [name: string, iv: string][] = [
    ["not base64", "not-base64!"],
    ["too short", Buffer.alloc(8, 9).toString("base64")],
  ];
  for (const [name, currentIv] of invalidIvs) {
    test(`an IV that is ${name} is replaced by a new one`, () => {
      const sizes: number[] = [];
      const result = resolveValue('{{hub "hunter2" | protect hub}}', {
        currentIv,
        randomBytes: (size) => {
          sizes.push(size);
          return Buffer.alloc(size, 7);
        },
      });
      assert.deepEqual(sizes, [16]);
      assert.equal(result.result.annotations[PolicyAnnotations.encryptionIv], expectedIv);
      assert.equal(result.value, "$ocm_encrypted:rtXbFGIp9Q9CASuN95yRmQ==");
    });
  }

  test("without encryption the replica's IV annotation is carried over and no IV is made", () => {
    const result = resolveValue("{{hub .ManagedClusterName hub}}", {
      currentIv: "kept",
      randomBytes: () => assert.fail("no IV needed"),
    }).result;
    assert.equal(result.usesEncryption, false);
    assert.deepEqual(result.annotations, { [PolicyAnnotations.encryptionIv]: "kept" });
  });

  const keyErrors: [name: string, key: Buffer | undefined, message: string][] = [
    [
      "no key",
      undefined,
      "error validating EncryptionConfig: AESKey must be set to use this encryption mode",
    ],
    [
      "a key of the wrong size",
      Buffer.alloc(5),
      "error validating EncryptionConfig: the AES key is invalid: crypto/aes: invalid key size 5",
    ],
  ];
  for (const [name, badKey, message] of keyErrors) {
    test(`${name}: the encrypting template and the hub templates after it fail`, () => {
      const policy = policyOf([
        configurationPolicy({ value: "{{hub .ManagedClusterName hub}}" }),
        configurationPolicy({ value: '{{hub "x" | protect hub}}' }),
        configurationPolicy({ value: "{{hub .ManagedClusterName hub}}" }),
      ]);
      const result = resolveHubTemplates(policy, context, options({ encryptionKey: badKey }));
      assert.deepEqual(result.errors, [
        { index: 1, message, retryable: false },
        { index: 2, message, retryable: false },
      ]);
      assert.equal((result.templates[0]!.objectDefinition.spec as { value: string }).value, "cluster1");
    });
  }

  test("AES-128 keys work too", () => {
    assert.equal(
      encryptValue("x", Buffer.alloc(16, 2), Buffer.alloc(16)),
      "$ocm_encrypted:a73CelRvsQRFfficWawaiw==",
    );
  });

  const decryptErrors: [
    name: string,
    value: string,
    keys: { key: Buffer; iv: Buffer; fallbackKey?: Buffer },
    message: string,
  ][] = [
    [
      "invalid base64",
      "$ocm_encrypted:abcde",
      { key, iv: fixedIv },
      "abcde: the encrypted string is invalid base64: illegal base64 data at input byte 4",
    ],
    [
      "the wrong key (bad padding length)",
      "$ocm_encrypted:rtXbFGIp9Q9CASuN95yRmQ==",
      { key: Buffer.alloc(32, 4), iv: fixedIv },
      "invalid PCKS7 padding: the padding length is invalid",
    ],
    [
      "the wrong key (mismatched padding bytes)",
      "$ocm_encrypted:rtXbFGIp9Q9CASuN95yRmQ==",
      { key: Buffer.alloc(32, 3), iv: fixedIv },
      "invalid PCKS7 padding: not all the padding bytes match",
    ],
    ["partial blocks", "$ocm_encrypted:YWJj", { key, iv: fixedIv }, "crypto/cipher: input not full blocks"],
    [
      "an invalid key",
      "$ocm_encrypted:rtXbFGIp9Q9CASuN95yRmQ==",
      { key: Buffer.alloc(7), iv: fixedIv },
      "the AES key is invalid: crypto/aes: invalid key size 7",
    ],
    [
      "a short IV",
      "$ocm_encrypted:rtXbFGIp9Q9CASuN95yRmQ==",
      { key, iv: Buffer.alloc(4) },
      "initialization vector must be 128 bits",
    ],
  ];
  for (const [name, value, keys, message] of decryptErrors) {
    test(`decryptValue refuses ${name}`, () => {
      assert.throws(
        () => decryptValue(value, keys),
        (error: Error) => error instanceof DecryptionError && error.message === message,
      );
    });
  }

  test("decryptValue falls back to the previous key", () => {
    assert.equal(
      decryptValue("$ocm_encrypted:rtXbFGIp9Q9CASuN95yRmQ==", {
        key: Buffer.alloc(32, 3),
        fallbackKey: key,
        iv: fixedIv,
      }),
      "hunter2",
    );
  });

  test("decryptEncryptedStrings replaces every value in a text and names the one that fails", () => {
    const block = "$ocm_encrypted:2xn9H0sr3qJUfPCNLi8VdTqLAZznJXnblIRoz4oaC6s=";
    const text = `a: $ocm_encrypted:rtXbFGIp9Q9CASuN95yRmQ==\nb: '${block}'\n`;
    assert.equal(decryptEncryptedStrings(text, { key, iv: fixedIv }), "a: hunter2\nb: '0123456789abcdef'\n");
    assert.throws(
      () => decryptEncryptedStrings("a: $ocm_encrypted:YWJj", { key, iv: fixedIv }),
      (error: Error) =>
        error instanceof DecryptionError &&
        error.message === "decryption of $ocm_encrypted:YWJj failed: crypto/cipher: input not full blocks",
    );
  });
});

describe("the cluster's encryption key", () => {
  test("newEncryptionKey takes 32 random bytes", () => {
    const sizes: number[] = [];
    const made = newEncryptionKey((size) => {
      sizes.push(size);
      return Buffer.alloc(size, 4);
    });
    assert.deepEqual(sizes, [32]);
    assert.deepEqual(made, Buffer.alloc(32, 4));
    assert.throws(() => newEncryptionKey(() => Buffer.alloc(3)), /expected 32 random bytes/);
  });

  test("the Secret has OCM's name, label, annotation and data key, and gives the key back", () => {
    const secret = encryptionKeySecret("cluster1", key, new Date("2026-01-02T03:04:05.678Z"));
    assert.deepEqual(secret, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "policy-encryption-key",
        namespace: "cluster1",
        labels: { "cluster.open-cluster-management.io/backup": "policy" },
        annotations: { "policy.open-cluster-management.io/last-rotated": "2026-01-02T03:04:05Z" },
      },
      data: { key: key.toString("base64") },
    });
    assert.deepEqual(encryptionKeyOf(secret as never), key);
    assert.equal(encryptionKeyOf({ data: {} }), undefined);
    assert.equal(encryptionKeyOf(undefined), undefined);
  });
});

describe("policy checks", () => {
  const cases: [
    name: string,
    spec: Record<string, Json>,
    annotations: Record<string, string> | undefined,
    expected: { hub: boolean; encryption: boolean; labels: boolean },
  ][] = [
    ["no templates", { value: "x" }, undefined, { hub: false, encryption: false, labels: false }],
    [
      "managed templates only",
      { value: '{{ fromSecret "a" "b" "c" }}' },
      undefined,
      { hub: false, encryption: false, labels: false },
    ],
    [
      "a hub template",
      { value: "{{hub .ManagedClusterName hub}}" },
      undefined,
      { hub: true, encryption: false, labels: false },
    ],
    [
      "fromSecret",
      { value: '{{hub fromSecret "" "s" "k" hub}}' },
      undefined,
      { hub: true, encryption: true, labels: false },
    ],
    [
      "copySecretData with trim",
      { value: '{{hub- copySecretData "" "s" hub}}' },
      undefined,
      { hub: true, encryption: true, labels: false },
    ],
    [
      "a pipe to protect",
      { value: '{{hub "x" | protect hub}}' },
      undefined,
      { hub: true, encryption: true, labels: false },
    ],
    [
      "cluster labels",
      { value: "{{hub .ManagedClusterLabels.env hub}}" },
      undefined,
      { hub: true, encryption: false, labels: true },
    ],
    [
      "disabled",
      { value: '{{hub fromSecret "" "s" "k" hub}} {{hub .ManagedClusterLabels hub}}' },
      { [PolicyAnnotations.disableTemplates]: "true" },
      { hub: true, encryption: false, labels: false },
    ],
  ];
  for (const [name, spec, annotations, expected] of cases) {
    test(name, () => {
      const policy = policyOf([configurationPolicy(spec)], annotations);
      assert.deepEqual(
        {
          hub: policyHasHubTemplates(policy),
          encryption: hubTemplatesNeedEncryption(policy),
          labels: hubTemplatesReadClusterLabels(policy),
        },
        expected,
      );
    });
  }
});
