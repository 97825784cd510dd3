// A byte relay between a TCP port and a Unix socket, the only kind of socket two network
// namespaces share (through the file system). Used in-process and, inside a namespace, as
//   node socket-relay.ts <listen> <target> [<listen> <target> ...] -- <command> [args...]
// where each endpoint is `host:port` or a socket path: once every relay listens, it runs the
// command and exits with it.
import { spawn } from "node:child_process";
import { connect, createServer, type Server } from "node:net";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";

export type Endpoint = { host: string; port: number } | { path: string };

export function parseEndpoint(text: string): Endpoint {
  const match = /^([\d.]+):(\d+)$/.exec(text);
  return match ? { host: match[1]!, port: Number(match[2]) } : { path: text };
}

/** Accepts connections on `listen` and pipes each to a fresh connection to `target`. */
export async function relay(listen: Endpoint, target: Endpoint): Promise<Server> {
  const server = createServer((inbound) => {
    const outbound = connect(target);
    const close = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on("error", close).on("close", close);
    outbound.on("error", close).on("close", close);
    inbound.pipe(outbound).pipe(inbound);
  });
  if ("path" in listen) await rm(listen.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const split = args.indexOf("--");
  const pairs = args.slice(0, split);
  const [command, ...commandArgs] = args.slice(split + 1);
  if (split < 0 || !command || pairs.length % 2 !== 0)
    throw new Error("usage: socket-relay <listen> <target> ... -- <command> [args...]");
  for (let index = 0; index < pairs.length; index += 2)
    await relay(parseEndpoint(pairs[index]!), parseEndpoint(pairs[index + 1]!));
  const child = spawn(command, commandArgs, { stdio: "inherit" });
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => child.kill(signal));
}
