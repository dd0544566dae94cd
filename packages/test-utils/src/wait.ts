/**
 * Polls `check` every 5 ms until it returns true; rejects after `timeoutMs`, naming `what` (a function is
 * called only then, so a message can show what had arrived). Resolves with the elapsed milliseconds.
 */
export async function waitFor(
  check: () => boolean,
  what: string | (() => string),
  timeoutMs = 10_000,
): Promise<number> {
  const started = performance.now()
  while (!check()) {
    if (performance.now() - started > timeoutMs) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      )
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  return performance.now() - started
}
