import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OwnerReference } from "../../api/types/meta.ts";
import {
  appliedManifestWorkOwnerReference,
  isOwnedBy,
  mergeOwnerReference,
  ownerReferencePatch,
} from "./owner.ts";

const owner = { name: "hash-web", uid: "amw-1" };
const mine: OwnerReference = {
  apiVersion: "work.open-cluster-management.io/v1",
  kind: "AppliedManifestWork",
  name: "hash-web",
  uid: "amw-1",
};
const otherAmw: OwnerReference = { ...mine, name: "hash-db", uid: "amw-2" };
const deployment: OwnerReference = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  name: "web",
  uid: "d-1",
  controller: true,
};

describe("appliedManifestWorkOwnerReference", () => {
  it("is a plain, non-controller reference to the AppliedManifestWork", () => {
    assert.deepEqual(appliedManifestWorkOwnerReference(owner), mine);
  });
});

describe("isOwnedBy", () => {
  const cases: [string, OwnerReference[] | undefined, boolean][] = [
    ["the uid is referenced", [deployment, mine], true],
    ["only other owners", [deployment, otherAmw], false],
    ["the name matches but not the uid", [{ ...mine, uid: "amw-old" }], false],
    ["no references", undefined, false],
  ];
  for (const [name, references, expected] of cases) {
    it(name, () => assert.equal(isOwnedBy("amw-1", references), expected));
  }
});

describe("mergeOwnerReference", () => {
  const cases: {
    name: string;
    existing: OwnerReference[] | undefined;
    keep: boolean;
    expected: OwnerReference[];
    modified: boolean;
  }[] = [
    { name: "adds to none", existing: undefined, keep: true, expected: [mine], modified: true },
    {
      name: "appends after others",
      existing: [deployment, otherAmw],
      keep: true,
      expected: [deployment, otherAmw, mine],
      modified: true,
    },
    {
      name: "already present",
      existing: [deployment, mine],
      keep: true,
      expected: [deployment, mine],
      modified: false,
    },
    {
      name: "replaces a stale uid in place",
      existing: [{ ...mine, uid: "amw-old" }, deployment],
      keep: true,
      expected: [mine, deployment],
      modified: true,
    },
    {
      name: "replaces a reference of another version of the group",
      existing: [{ ...mine, apiVersion: "work.open-cluster-management.io/v1alpha1" }],
      keep: true,
      expected: [mine],
      modified: true,
    },
    {
      name: "replaces a reference that differs in controller",
      existing: [{ ...mine, controller: true }],
      keep: true,
      expected: [mine],
      modified: true,
    },
    {
      name: "another group with the same kind and name is another owner",
      existing: [{ ...mine, apiVersion: "example.com/v1" }],
      keep: true,
      expected: [{ ...mine, apiVersion: "example.com/v1" }, mine],
      modified: true,
    },
    {
      name: "removes it",
      existing: [deployment, mine, otherAmw],
      keep: false,
      expected: [deployment, otherAmw],
      modified: true,
    },
    {
      name: "removes a matching reference whatever its uid",
      existing: [{ ...mine, uid: "amw-old" }],
      keep: false,
      expected: [],
      modified: true,
    },
    {
      name: "nothing to remove",
      existing: [deployment],
      keep: false,
      expected: [deployment],
      modified: false,
    },
    { name: "nothing to remove from none", existing: undefined, keep: false, expected: [], modified: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const before = structuredClone(c.existing);
      assert.deepEqual(mergeOwnerReference(c.existing, mine, c.keep), {
        ownerReferences: c.expected,
        modified: c.modified,
      });
      assert.deepEqual(c.existing, before, "the input is not modified");
    });
  }
});

describe("ownerReferencePatch", () => {
  const live = (ownerReferences?: OwnerReference[]) => ({
    metadata: { name: "cm", uid: "cm-1", resourceVersion: "42", ownerReferences },
  });
  const cases: [string, OwnerReference[] | undefined, boolean, OwnerReference[] | undefined][] = [
    ["adds when owned", [deployment], true, [deployment, mine]],
    ["nothing when owned and present", [mine], true, undefined],
    ["removes when not owned", [mine, deployment], false, [deployment]],
    ["removes the last one, leaving an empty list", [mine], false, []],
    ["nothing when not owned and absent", undefined, false, undefined],
  ];
  for (const [name, references, owned, expected] of cases) {
    it(name, () => {
      const patch = ownerReferencePatch(live(references), owner, owned);
      assert.deepEqual(
        patch,
        expected && { metadata: { uid: "cm-1", resourceVersion: "42", ownerReferences: expected } },
      );
    });
  }
});
