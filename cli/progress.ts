// Progress while a command waits: on a terminal, one line redrawn in place with a spinner and the
// seconds waited; piped (CI, a log file), a plain line each time the state changes, so that the
// output stays readable and diffable.
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface Progress {
  /** The state now, e.g. "2/3 clusters joined and available". */
  update(state: string): void;
  /** Ends the wait with a last line. */
  done(state: string): void;
}

const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export function startProgress(
  stream: ProgressStream,
  options: { indent?: string; now?: () => number; tickMs?: number } = {},
): Progress {
  const indent = options.indent ?? "  ";
  const now = options.now ?? Date.now;
  const started = now();
  let state = "";
  let frame = 0;
  if (!stream.isTTY) {
    return {
      update(next) {
        if (next !== state) stream.write(`${indent}${next}\n`);
        state = next;
      },
      done(last) {
        if (last !== state) stream.write(`${indent}${last}\n`);
        state = last;
      },
    };
  }
  const draw = () => {
    const seconds = Math.floor((now() - started) / 1000);
    stream.write(`\r\x1b[2K${indent}${frames[frame++ % frames.length]} ${state} (${seconds}s)`);
  };
  const timer = setInterval(draw, options.tickMs ?? 120);
  timer.unref();
  return {
    update(next) {
      state = next;
      draw();
    },
    done(last) {
      clearInterval(timer);
      stream.write(`\r\x1b[2K${indent}${last}\n`);
    },
  };
}

/**
 * Polls `check` until it reports done, showing its state; throws with the last state after
 * `timeoutMs`. `check` returns the state line and whether the wait is over.
 */
export async function waitWithProgress<T>(
  stream: ProgressStream,
  timeoutMs: number,
  check: () => Promise<{ state: string; done?: T }>,
  options: { pollMs?: number; what?: string } = {},
): Promise<T> {
  const progress = startProgress(stream);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { state, done } = await check();
    if (done !== undefined) {
      progress.done(state);
      return done;
    }
    progress.update(state);
    if (Date.now() > deadline) {
      progress.done(state);
      throw new Error(
        `${options.what ?? "the wait"} did not finish within ${Math.round(timeoutMs / 1000)} s (${state})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}
