// What OCM checks in its ManagedCluster admission webhook, as a ValidatingAdmissionPolicy the
// API server itself enforces (CEL, no webhook server to run):
//  - accepting a cluster (spec.hubAcceptsClient becoming true) needs `update` on the virtual
//    subresource managedclusters/accept in register.open-cluster-management.io;
//  - joining a cluster set (setting or changing the clusterset label) needs `create` on
//    managedclustersets/join for the set;
//  - an agent may update its own ManagedCluster (to add client URLs) but not its acceptance,
//    taints, lease duration or labels.
import { Csr, Groups, Labels, Permissions, Resources } from "../../api/constants.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";

export const managedClusterPolicyName = "bosun-managedcluster";

const accepting = [
  "has(object.spec) && has(object.spec.hubAcceptsClient) && object.spec.hubAcceptsClient",
  "(request.operation == 'CREATE' || !has(oldObject.spec) || !has(oldObject.spec.hubAcceptsClient) || !oldObject.spec.hubAcceptsClient)",
].join(" && ");

const newSet = `has(object.metadata.labels) && '${Labels.clusterSet}' in object.metadata.labels ? object.metadata.labels['${Labels.clusterSet}'] : ''`;
const oldSet = `request.operation == 'UPDATE' && has(oldObject.metadata.labels) && '${Labels.clusterSet}' in oldObject.metadata.labels ? oldObject.metadata.labels['${Labels.clusterSet}'] : ''`;

/** A field of spec (or the labels) before and after, with absent read as a default. */
const same = (path: string, fallback: string) => {
  const [parent, field] = [path.slice(0, path.lastIndexOf(".")), path.slice(path.lastIndexOf(".") + 1)];
  const read = (root: string) =>
    `(has(${root}.${parent}) && has(${root}.${parent}.${field}) ? ${root}.${parent}.${field} : ${fallback})`;
  return `${read("object")} == ${read("oldObject")}`;
};

export function managedClusterAdmissionPolicy(): Unstructured {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name: managedClusterPolicyName },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: [Groups.cluster],
            apiVersions: ["*"],
            operations: ["CREATE", "UPDATE"],
            resources: [Resources.ManagedCluster.plural],
          },
        ],
      },
      variables: [
        { name: "accepting", expression: accepting },
        { name: "newSet", expression: newSet },
        { name: "oldSet", expression: oldSet },
        { name: "agent", expression: `'${Csr.managedClustersGroup}' in request.userInfo.groups` },
      ],
      validations: [
        {
          expression: `!variables.accepting || authorizer.group('${Permissions.accept.group}').resource('${Permissions.accept.resource}').subresource('${Permissions.accept.subresource}').name(object.metadata.name).check('${Permissions.accept.verb}').allowed()`,
          messageExpression: `'user ' + request.userInfo.username + ' cannot accept ManagedCluster ' + object.metadata.name + ': setting spec.hubAcceptsClient needs ${Permissions.accept.verb} on ${Permissions.accept.resource}/${Permissions.accept.subresource} in ${Permissions.accept.group}'`,
          reason: "Forbidden",
        },
        {
          expression: `variables.newSet == variables.oldSet || variables.newSet == '' || authorizer.group('${Permissions.joinClusterSet.group}').resource('${Permissions.joinClusterSet.resource}').subresource('${Permissions.joinClusterSet.subresource}').name(variables.newSet).check('${Permissions.joinClusterSet.verb}').allowed()`,
          messageExpression: `'user ' + request.userInfo.username + ' cannot add ManagedCluster ' + object.metadata.name + ' to ManagedClusterSet ' + variables.newSet + ': the ${Labels.clusterSet} label needs ${Permissions.joinClusterSet.verb} on ${Permissions.joinClusterSet.resource}/${Permissions.joinClusterSet.subresource}'`,
          reason: "Forbidden",
        },
        {
          expression: [
            "!variables.agent || request.operation != 'UPDATE' ||",
            `(${same("spec.hubAcceptsClient", "false")} && ${same("spec.taints", "[]")} &&`,
            ` ${same("spec.leaseDurationSeconds", "0")} && ${same("metadata.labels", "{}")})`,
          ].join(" "),
          message:
            "a managed cluster's agent may not change spec.hubAcceptsClient, spec.taints, spec.leaseDurationSeconds or the labels of its ManagedCluster",
          reason: "Forbidden",
        },
      ],
    },
  };
}

export function managedClusterAdmissionBinding(): Unstructured {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name: managedClusterPolicyName },
    spec: { policyName: managedClusterPolicyName, validationActions: ["Deny"] },
  };
}
