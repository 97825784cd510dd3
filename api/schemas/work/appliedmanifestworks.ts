import { Resources } from "../../constants.ts";
import { kindCrd } from "../common.ts";
import { array, dateTime, object, required, rootSchema, string } from "../dsl.ts";

const r = Resources.AppliedManifestWork;

export const appliedManifestWorks = kindCrd(r, {
  statusSubresource: true,
  schema: rootSchema(
    {
      spec: object(
        {
          hubHash: required(string({ description: "The SHA-256 of the hub's API server URL, in hex." })),
          agentID: string({ description: "The agent that applied the work." }),
          manifestWorkName: required(string({ description: "The ManifestWork's name on the hub." })),
        },
        { description: "The ManifestWork this record belongs to." },
      ),
      status: object(
        {
          appliedResources: array(
            object({
              group: string({ description: "The API group." }),
              version: required(string({ description: "The API version." })),
              resource: required(string({ description: "The resource (plural)." })),
              name: required(string({ description: "The name." })),
              namespace: string({ description: "The namespace." }),
              uid: string({ description: "The UID the resource had when applied." }),
            }),
            { description: "The resources the work applied." },
          ),
          evictionStartTime: dateTime({ description: "When the work was found missing from the hub." }),
        },
        { description: "What was applied." },
      ),
    },
    {
      description:
        "The managed cluster's record of what one ManifestWork applied. Cluster-scoped; named " +
        "<hubHash>-<work name>.",
    },
  ),
});
