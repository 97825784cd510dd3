// Comparisons per second of the ConfigurationPolicy engine on a realistic mix: a policy
// with named musthave/mustonlyhave templates over many namespaces (most objects compliant,
// one in ten drifted, so diffs are computed too) plus an unnamed mustnothave template that
// compares every Pod. Run: node bench/policy.ts [seconds]
import { cpus } from "node:os";
import { MemoryCluster } from "../policies/cluster.ts";
import { evaluateConfigurationPolicy } from "../policies/evaluate.ts";
import type { JsonObject } from "../policies/gofmt.ts";

const namespaces = 100;
const podsPerNamespace = 5;
const seconds = Number(process.argv[2] ?? 10);

function objects(): JsonObject[] {
  const list: JsonObject[] = [];
  for (let n = 0; n < namespaces; n++) {
    const namespace = `team-${n}`;
    const drifted = n % 10 === 0;
    list.push({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace, labels: { team: String(n) } },
    });
    list.push({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: "web",
        namespace,
        uid: `uid-${n}`,
        labels: { app: "web", tier: "frontend" },
        generation: 3,
      },
      spec: {
        replicas: drifted ? 1 : 3,
        selector: { matchLabels: { app: "web" } },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            containers: [
              {
                name: "web",
                image: "nginx:1.25",
                imagePullPolicy: "IfNotPresent",
                ports: [
                  { containerPort: 80, protocol: "TCP" },
                  { containerPort: 443, protocol: "TCP" },
                ],
                resources: {
                  limits: { cpu: "500m", memory: "512Mi" },
                  requests: { cpu: "100m", memory: "128Mi" },
                },
                securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
              },
              { name: "sidecar", image: "envoy:1.29", resources: { limits: { memory: "128Mi" } } },
            ],
            restartPolicy: "Always",
            terminationGracePeriodSeconds: 30,
          },
        },
      },
      status: { replicas: 3, readyReplicas: 3, availableReplicas: 3 },
    });
    list.push({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace, uid: `cm-${n}` },
      data: { log_level: "info", region: "eu-west-1", feature_flags: "a,b,c" },
    });
    list.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "reader", namespace },
      rules: [
        { apiGroups: [""], resources: ["pods", "services"], verbs: ["get", "list", "watch"] },
        {
          apiGroups: ["apps"],
          resources: ["deployments"],
          verbs: drifted ? ["get", "list", "watch", "delete"] : ["get", "list", "watch"],
        },
      ],
    });
    list.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "deny-all", namespace },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
    for (let p = 0; p < podsPerNamespace; p++) {
      list.push({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: `web-${p}`, namespace, labels: { app: "web" } },
        spec: {
          containers: [{ name: "web", image: "nginx:1.25", securityContext: { privileged: false } }],
          nodeName: `node-${p}`,
        },
        status: { phase: "Running" },
      });
    }
  }
  return list;
}

const policy: JsonObject = {
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "ConfigurationPolicy",
  metadata: { name: "bench" },
  spec: {
    remediationAction: "inform",
    namespaceSelector: { include: ["team-*"] },
    "object-templates": [
      {
        complianceType: "musthave",
        objectDefinition: {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "web", labels: { app: "web" } },
          spec: {
            replicas: 3,
            template: {
              spec: {
                containers: [
                  {
                    name: "web",
                    image: "nginx:1.25",
                    resources: { limits: { memory: "0.5Gi" } },
                    securityContext: { allowPrivilegeEscalation: false },
                  },
                ],
              },
            },
          },
        },
      },
      {
        complianceType: "mustonlyhave",
        objectDefinition: {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "settings" },
          data: { log_level: "info", region: "eu-west-1", feature_flags: "a,b,c" },
        },
      },
      {
        complianceType: "mustonlyhave",
        objectDefinition: {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "Role",
          metadata: { name: "reader" },
          rules: [
            { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch"] },
            { apiGroups: [""], resources: ["pods", "services"], verbs: ["get", "list", "watch"] },
          ],
        },
      },
      {
        complianceType: "musthave",
        objectDefinition: {
          apiVersion: "networking.k8s.io/v1",
          kind: "NetworkPolicy",
          metadata: { name: "deny-all" },
          spec: { policyTypes: ["Egress", "Ingress"] },
        },
      },
      {
        complianceType: "mustnothave",
        objectDefinition: {
          apiVersion: "v1",
          kind: "Pod",
          spec: { containers: [{ securityContext: { privileged: true } }] },
        },
      },
    ],
  },
};

const cluster = new MemoryCluster(objects());
// Named templates compare one object per namespace; the unnamed one compares every Pod.
const comparisonsPerEvaluation = namespaces * 4 + namespaces * podsPerNamespace;

const first = evaluateConfigurationPolicy(policy, cluster);
console.log(`sample: ${first.message.slice(0, 160)}…`);

for (let i = 0; i < 3; i++) evaluateConfigurationPolicy(policy, cluster);
const start = process.hrtime.bigint();
let evaluations = 0;
const deadline = start + BigInt(seconds * 1e9);
while (process.hrtime.bigint() < deadline) {
  evaluateConfigurationPolicy(policy, cluster);
  evaluations++;
}
const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
const comparisons = evaluations * comparisonsPerEvaluation;
console.log(`cpu: ${cpus()[0]?.model ?? "unknown"} (${cpus().length} cores), node ${process.version}`);
console.log(
  `evaluations: ${evaluations} in ${elapsed.toFixed(2)} s (${((elapsed / evaluations) * 1000).toFixed(2)} ms each)`,
);
console.log(`comparisons: ${comparisons} → ${Math.round(comparisons / elapsed)} comparisons/s on one core`);
