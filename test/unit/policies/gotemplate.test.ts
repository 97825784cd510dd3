import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { MemoryCluster } from "../../../policies/cluster.ts";
import { executeTemplate, StructValue, type Value } from "../../../policies/gotemplate-exec.ts";
import { parseTemplate } from "../../../policies/gotemplate-parse.ts";
import { goSprintf, templateFunctions } from "../../../policies/template-funcs.ts";
import { processForAutoIndent, processForDataTypes, resolveTemplate } from "../../../policies/templates.ts";
import { parseKubeYaml } from "../../../policies/yaml.ts";
import { corpusMissing, findCorpus } from "../../support/corpus.ts";

const cluster = new MemoryCluster(
  parseKubeYaml(`
apiVersion: v1
kind: ConfigMap
metadata: {name: cm, namespace: ns1, labels: {app: a}}
data: {key: value, list: "a b c"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm2, namespace: ns1, labels: {app: b}}
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: ns1}
data: {token: c2VjcmV0, other: eA==}
---
apiVersion: cluster.open-cluster-management.io/v1alpha1
kind: ClusterClaim
metadata: {name: version.openshift.io}
spec: {value: 4.9.13}
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {node-role.kubernetes.io/infra: ""}}
---
apiVersion: v1
kind: Node
metadata: {name: n2, labels: {node-role.kubernetes.io/infra: "", node-role.kubernetes.io/master: ""}}
`).map((document) => document.value as never),
);

const funcs = templateFunctions({ reader: cluster, onSensitiveData: () => undefined });

function run(text: string, dot: Value = new StructValue({}, {})): string {
  return executeTemplate(
    parseTemplate(text, (name) => Object.hasOwn(funcs, name)),
    funcs,
    dot,
  );
}

const data: Value = new StructValue(
  {
    Object: { metadata: { name: "x", labels: { a: "1" }, nothing: null }, items: [1, 2, 3] },
    ObjectName: "x",
  },
  { Object: "map[string]interface {}", ObjectName: "string" },
);

describe("the Go template language", () => {
  const cases: [string, string][] = [
    ["{{ .ObjectName }}", "x"],
    ["{{ .Object.metadata.name }}", "x"],
    ["{{ .Object.metadata.missing }}", "<no value>"],
    ["{{ .Object.metadata.missing.deeper }}", "<no value>"],
    ["{{ .Object.metadata.labels }}", "map[a:1]"],
    ["{{ .Object.items }}", "[1 2 3]"],
    ['{{ if eq .ObjectName "x" }}yes{{ else }}no{{ end }}', "yes"],
    ['{{ if eq .Object.metadata.missing "x" }}yes{{ else }}no{{ end }}', "no"],
    ["{{ if not .Object.metadata.missing }}absent{{ end }}", "absent"],
    ["{{ if and .ObjectName (gt (len .Object.items) 2) }}big{{ end }}", "big"],
    ['{{ or .Object.metadata.missing "fallback" }}', "fallback"],
    ["{{ range $i, $v := .Object.items }}{{ $i }}={{ $v }},{{ end }}", "0=1,1=2,2=3,"],
    ["{{ range .Object.metadata.labels }}{{ . }}{{ end }}", "1"],
    ["{{ range .Object.none }}x{{ else }}empty{{ end }}", "empty"],
    ["{{ range $i, $v := .Object.items }}{{ if eq $v 2 }}{{ break }}{{ end }}{{ $v }}{{ end }}", "1"],
    ["{{ with .Object.metadata }}{{ .name }}{{ end }}", "x"],
    ['{{- $x := "a" -}} {{ $x = "b" }}{{ $x }}', "b"],
    ["{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}", "21"],
    ['a {{- " b " -}} c', "a b c"],
    ["{{/* comment */}}ok", "ok"],
    ["{{ index .Object.items 1 }}", "2"],
    ['{{ index .Object.metadata.labels "a" }}', "1"],
    ['{{ printf "%s-%d-%v-%q" "a" 5 true "q" }}', 'a-5-true-"q"'],
    ['{{ print 1 2 "a" "b" }}', "1 2ab"],
    ['{{ len "héllo" }}', "6"],
    ['{{ slice "abcdef" 1 3 }}', "bc"],
    ["{{ `raw {{ text }}` }}", "raw {{ text }}"],
    ['{{ (split " " "a b c")._1 }}', "b"],
    ['{{ $p := splitn "#" 2 "ns#name#x" }}{{ $p._0 }}/{{ $p._1 }}', "ns/name#x"],
    ['{{ cat "a" "-" "b" | replace " " "" }}', "a-b"],
    ['{{ trimAll "#" "##a#b##" }}', "a#b"],
    ['{{ trunc -3 "abcdef" }}|{{ trunc 2 "abcdef" }}', "def|ab"],
    ['{{ "Hello" | lower }} {{ "x" | upper }} {{ " t " | trim }}', "hello X t"],
    ['{{ empty "" }} {{ empty .Object.items }} {{ default "d" "" }}', "true false d"],
    ['{{ ternary "yes" "no" true }}', "yes"],
    ['{{ list 1 "a" | toJSON }}', '[1,"a"]'],
    ['{{ (fromJSON "{\\"a\\":[1]}").a }}', "[1]"],
    ['{{ (fromYAML "a: b").a }}', "b"],
    ['{{ dict "b" 2 "a" 1 | toYAML }}', "a: 1\nb: 2"],
    ['{{ "3" | toInt }} {{ "true" | toBool }} {{ "0x10" | toInt }} {{ atoi "7" }}', "3 true 16 7"],
    ['{{ "hi" | base64enc }} {{ "aGk=" | base64dec }} {{ "hi" | b64enc }}', "aGk= hi aGk="],
    ['{{ "a\\nb" | indent 2 }}', "a\n  b"],
    ['{{ semverCompare ">=4.9.0" (fromClusterClaim "version.openshift.io") }}', "true"],
    ['{{ fromConfigMap "ns1" "cm" "key" }}', "value"],
    ['{{ fromConfigMap "ns1" "cm" "missing" }}x', "x"],
    ['{{ fromSecret "ns1" "s" "token" | base64dec }}', "secret"],
    ['{{ copySecretData "ns1" "s" }}', '{"other":"eA==","token":"c2VjcmV0"}'],
    ['{{ copyConfigMapData "ns1" "cm" }}', '{"key":"value","list":"a b c"}'],
    ['{{ lookupClusterClaim "none" }}|', "|"],
    ['{{ (lookup "v1" "ConfigMap" "ns1" "cm").data.key }}', "value"],
    ['{{ (lookup "v1" "ConfigMap" "ns1" "nope").data.key }}', "<no value>"],
    ['{{ len (lookup "v1" "ConfigMap" "ns1" "").items }}', "2"],
    ['{{ range (lookup "v1" "ConfigMap" "" "" "app=b").items }}{{ .metadata.name }}{{ end }}', "cm2"],
    ['{{ range (getNodesWithExactRoles "infra").items }}{{ .metadata.name }}{{ end }}', "n1"],
    ['{{ hasNodesWithExactRoles "master" }}', "false"],
    ['{{ eq (lookup "v1" "ConfigMap" "ns1" "nope").metadata.name "nope" }}', "false"],
  ];
  for (const [text, expected] of cases) {
    it(`${text} → ${JSON.stringify(expected)}`, () => assert.equal(run(text, data), expected));
  }

  const errors: [string, RegExp | string][] = [
    [
      "{{ .Object.metadata.nothing.x }}",
      'template: tmpl:1:10: executing "tmpl" at <.Object.metadata.nothing.x>: nil pointer evaluating interface {}.x',
    ],
    [
      "{{ .Nope }}",
      'template: tmpl:1:3: executing "tmpl" at <.Nope>: can\'t evaluate field Nope in type struct { Object map[string]interface {}; ObjectName string }',
    ],
    [
      '{{ fromSecret "ns1" "none" "k" }}',
      'template: tmpl:1:3: executing "tmpl" at <fromSecret "ns1" "none" "k">: error calling fromSecret: failed to get the secret none from ns1: secrets "none" not found',
    ],
    [
      '{{ fromSecret "" "s" "k" }}',
      /error calling fromSecret: the input is invalid: namespace, name, and key must be specified$/,
    ],
    [
      '{{ lookup "x.io/v1" "Thing" "" "" }}',
      /error calling lookup: one or more API resources are not installed on the API server$/,
    ],
    ['{{ lookup "v1" "ConfigMap" "ns1" "" "a in ()" }}', /error calling lookup: /],
    [
      '{{ "a\\nb" | toLiteral }}',
      /error calling toLiteral: new lines are not allowed in the string passed to the toLiteral function$/,
    ],
    [
      '{{ "x" | protect }}',
      /error calling protect: the protect template function is not enabled in this mode$/,
    ],
    [
      '{{ expandenv "$HOME" }}',
      /error calling expandenv: use of denylisted template function: function 'expandenv' is considered a security risk$/,
    ],
    ['{{ indent "x" "y" }}', /expected integer; found "x"$/],
    [
      '{{ fromConfigMap "a" }}',
      'template: tmpl:1:3: executing "tmpl" at <fromConfigMap>: wrong number of args for fromConfigMap: want 3 got 1',
    ],
    ["{{ base64dec .Object.missing }}", /at <\.Object\.missing>: invalid value; expected string$/],
    ["{{ gt .Object.missing 1 }}", /error calling gt: invalid type for comparison$/],
    ['{{ eq 1 "1" }}', /error calling eq: incompatible types for comparison$/],
    ["{{ index .Object.items 9 }}", /error calling index: index out of range: 9$/],
    ['{{ template "nope" . }}', /template "nope" not defined$/],
    ["{{ 3 4 }}", /can't give argument to non-function 3$/],
  ];
  for (const [text, expected] of errors) {
    it(`${text} fails`, () =>
      assert.throws(() => run(text, data), typeof expected === "string" ? { message: expected } : expected));
  }

  const parseErrors: [string, string][] = [
    ["{{ if true }}", "1: unexpected EOF"],
    ["{{ nope }}", '1: function "nope" not defined'],
    ["{{ $x }}", '1: undefined variable "$x"'],
    ["a\n{{ end }}", "2: unexpected {{end}}"],
    ["{{ break }}", "1: {{break}} outside {{range}}"],
    ['{{ "unterminated }}', "1: unterminated quoted string"],
    ["{{ (1 }}", "1: unclosed left paren"],
  ];
  for (const [text, message] of parseErrors) {
    it(`parse error: ${JSON.stringify(text)}`, () =>
      assert.throws(() => parseTemplate(text, (name) => Object.hasOwn(funcs, name)), { message }));
  }

  it("formats like Go's Sprintf, with its markers for missing and extra operands", () => {
    assert.equal(goSprintf("%s %s", ["a"]), "a %!s(MISSING)");
    assert.equal(goSprintf("%d", [1, "x"]), "1%!(EXTRA string=x)");
    assert.equal(goSprintf("%05.1f|%-3s|%x", [3.14159, "a", 255]), "003.1|a  |ff");
  });
});

describe("go-template-utils' text processing", () => {
  it("unquotes values piped to toInt, toBool and toLiteral", () => {
    assert.equal(processForDataTypes("replicas: '{{ \"3\" | toInt }}'\n"), 'replicas: {{ "3" | toInt }}\n');
    assert.equal(processForDataTypes("flag: '{{ .x | toBool }}'"), "flag: {{ .x | toBool }}");
    assert.equal(
      processForDataTypes('data: \'{{ copySecretData "a" "b" }}\''),
      'data: {{ copySecretData "a" "b" }}',
    );
    assert.equal(processForDataTypes("name: '{{ .x }}'"), "name: '{{ .x }}'");
  });
  it("replaces autoindent with the indentation in front of the template", () => {
    assert.equal(
      processForAutoIndent("  key: |\n    {{ .x | autoindent }}\n"),
      "  key: |\n    {{ .x | indent 4 }}\n",
    );
  });
  it("resolves an object definition and reads the result back as YAML", () => {
    const value = resolveTemplate({
      definition: { data: { n: '{{ "5" | toInt }}', b: '{{ "true" | toBool }}', s: "{{ 5 }}" } },
      environment: { reader: cluster, onSensitiveData: () => undefined },
    });
    assert.deepEqual(value, { data: { b: true, n: 5, s: "5" } });
  });
  it("reports a template that reads a Secret as sensitive", () => {
    let sensitive = false;
    resolveTemplate({
      definition: { a: '{{ fromSecret "ns1" "s" "token" }}' },
      environment: { reader: cluster, onSensitiveData: () => (sensitive = true) },
    });
    assert.ok(sensitive);
  });
});

describe("every template in the policy corpus parses", () => {
  const corpus = findCorpus();
  if (corpus === undefined) {
    void it.skip(corpusMissing());
    return;
  }
  const collection = resolve(corpus, "policy-collection");
  it("parses each {{ }} expression of the corpus's managed-cluster templates", () => {
    const files = execFileSync("find", [collection, "-name", "*.yaml"], { encoding: "utf8" })
      .trim()
      .split("\n");
    let count = 0;
    for (const file of files) {
      for (const document of parseKubeYaml(execFileSync("cat", [file], { encoding: "utf8" }))) {
        const text = JSON.stringify(document.value);
        if (!text.includes("{{")) continue;
        // Resolve each ConfigurationPolicy's definitions through the full pipeline's parser.
        for (const match of text.matchAll(/\{\{(?!hub)[^}]*\}\}/g)) {
          const expression = JSON.parse(`"${match[0]}"`) as string;
          if (
            /\{\{hub|hub\}\}/.test(expression) ||
            /^\{\{\s*(?:end|else|break|continue)\b/.test(expression.replace(/^\{\{-/, "{{"))
          )
            continue;
          if (/\b(?:include|template)\b|\.Values\b|request\.object/.test(expression)) continue;
          const body = /^\{\{-?\s*(?:if|range|with|else if)\b/.test(expression)
            ? `${expression}{{ end }}`
            : expression;
          const declared = [...body.matchAll(/\$[A-Za-z_][A-Za-z0-9_]*/g)]
            .map((variable) => `{{ ${variable[0]} := "" }}`)
            .join("");
          assert.doesNotThrow(
            () => parseTemplate(declared + body, (name) => Object.hasOwn(funcs, name)),
            `${file}: ${expression}`,
          );
          count++;
        }
      }
    }
    assert.ok(count > 200, `only ${count} expressions found`);
  });
});
