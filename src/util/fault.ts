/**
 * Fault injection for crash tests. `BULKHEAD_FAULT=<point>` makes the process kill itself with
 * SIGKILL (no cleanup, no exit handlers: exactly what `kill -9` or a power cut does) the moment it
 * reaches the named point. Tests use it to stop a run right after a chosen step and then check
 * that what is on disk or on chain is consistent and that a re-run repairs it. Without the
 * variable, `faultPoint` does nothing.
 *
 * `BULKHEAD_FAULT=<point>#<n>` kills at the n-th time the point is reached (1-based).
 */
const counts = new Map<string, number>();

export function faultPoint(point: string): void {
  const spec = process.env.BULKHEAD_FAULT;
  if (!spec) return;
  const [name, nth] = spec.split("#");
  if (name !== point) return;
  const n = (counts.get(point) ?? 0) + 1;
  counts.set(point, n);
  if (n !== Number(nth ?? 1)) return;
  process.stderr.write(`BULKHEAD_FAULT: killed at ${point}${nth ? `#${nth}` : ""}\n`);
  process.kill(process.pid, "SIGKILL");
}
