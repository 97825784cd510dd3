// Starts a real control plane for a test file and reports its logs when a test fails.
import { after, afterEach, before, type TestContext } from "node:test";
import { ensureKubeBinaries } from "../../local/binaries.ts";
import { ControlPlane, type ControlPlaneOptions } from "../../local/controlplane.ts";

export interface TestControlPlane {
  /** The running control plane; valid inside tests, after the before() hook ran. */
  readonly plane: ControlPlane;
}

/**
 * Registers before/after hooks that start and stop a control plane named `name` around
 * the enclosing suite. When a test fails, the tail of every component's log is printed.
 */
// A test process stopped by a signal still runs its "exit" handlers, which take down the
// control planes it started instead of leaving them running.
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  if (process.listenerCount(signal) === 0) process.once(signal, () => process.exit(code));
}

export function useControlPlane(
  name: string,
  options: Omit<ControlPlaneOptions, "name" | "binaries"> = {},
): TestControlPlane {
  let plane: ControlPlane | undefined;
  before(async () => {
    plane = await ControlPlane.start({ name, binaries: await ensureKubeBinaries(), ...options });
  });
  afterEach(async (context) => {
    // TestContext.passed exists at run time but is missing from @types/node 24.
    const t = context as TestContext & { passed?: boolean };
    if (plane && t.passed === false) {
      console.error(
        `logs of control plane ${name} after failed test "${t.name}":\n${await plane.logTail(30)}`,
      );
    }
  });
  after(async () => {
    await plane?.stop();
  });
  return {
    get plane(): ControlPlane {
      if (!plane) throw new Error(`control plane ${name} is not running`);
      return plane;
    },
  };
}
