/**
 * Progress reporting on stderr for long jobs (trusted setup, proving):
 *   "label: 3/10 done, elapsed 12s, ETA 28s"
 * or, with `json: true`, one JSON object per line:
 *   {"type":"progress","label":"...","done":3,"total":10,"elapsedMs":12000,"etaMs":28000}
 */

export interface ProgressOptions {
  label: string;
  total: number;
  /** JSON lines instead of text. */
  json?: boolean;
  /** Where to write (default process.stderr). */
  stream?: { write(s: string): unknown };
  /** Minimum ms between two lines for `tick`/`update` (default 1000; the last step always prints). */
  intervalMs?: number;
  /** Print nothing. */
  quiet?: boolean;
}

export interface Progress {
  readonly label: string;
  /** Add `n` (default 1) finished units. */
  tick(n?: number, note?: string): void;
  /** Set the number of finished units. */
  update(done: number, note?: string): void;
  /** Print a free-form message under this label. */
  log(message: string): void;
  /** Mark finished and print the final line. */
  finish(note?: string): void;
  /** Milliseconds since creation. */
  elapsedMs(): number;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const interval = opts.intervalMs ?? 1000;
  const start = Date.now();
  let done = 0;
  let lastPrint = 0;
  let finished = false;

  const emit = (note?: string, force = false) => {
    if (opts.quiet) return;
    const now = Date.now();
    if (!force && now - lastPrint < interval && done < opts.total) return;
    lastPrint = now;
    const elapsed = now - start;
    const eta =
      done > 0 && opts.total > done ? (elapsed / done) * (opts.total - done) : done >= opts.total ? 0 : null;
    if (opts.json) {
      const rec: Record<string, unknown> = {
        type: "progress",
        label: opts.label,
        done,
        total: opts.total,
        elapsedMs: elapsed,
        etaMs: eta === null ? null : Math.round(eta),
      };
      if (note) rec.note = note;
      stream.write(`${JSON.stringify(rec)}\n`);
    } else {
      const etaText = eta === null ? "ETA ?" : `ETA ${formatDuration(eta)}`;
      stream.write(
        `${opts.label}: ${done}/${opts.total} done, elapsed ${formatDuration(elapsed)}, ${etaText}${note ? ` (${note})` : ""}\n`,
      );
    }
  };

  return {
    label: opts.label,
    tick(n = 1, note) {
      done = Math.min(opts.total, done + n);
      emit(note);
    },
    update(d, note) {
      done = Math.min(opts.total, Math.max(0, d));
      emit(note);
    },
    log(message) {
      if (opts.quiet) return;
      if (opts.json) {
        stream.write(`${JSON.stringify({ type: "log", label: opts.label, message })}\n`);
      } else {
        stream.write(`${opts.label}: ${message}\n`);
      }
    },
    finish(note) {
      if (finished) return;
      finished = true;
      done = opts.total;
      emit(note, true);
    },
    elapsedMs() {
      return Date.now() - start;
    },
  };
}

/** A message sink used by library functions: text lines or JSON lines on stderr. */
export interface Reporter {
  json: boolean;
  quiet: boolean;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  progress(label: string, total: number): Progress;
}

export function createReporter(
  opts: { json?: boolean; quiet?: boolean; stream?: { write(s: string): unknown } } = {},
): Reporter {
  const stream = opts.stream ?? process.stderr;
  const json = opts.json ?? false;
  const quiet = opts.quiet ?? false;
  const out = (level: string, message: string, fields?: Record<string, unknown>) => {
    if (quiet && level !== "warn") return;
    if (json) stream.write(`${JSON.stringify({ type: level, message, ...fields })}\n`);
    else stream.write(level === "warn" ? `warning: ${message}\n` : `${message}\n`);
  };
  return {
    json,
    quiet,
    info: (m, f) => out("info", m, f),
    warn: (m, f) => out("warn", m, f),
    progress: (label, total) => createProgress({ label, total, json, stream, quiet }),
  };
}

/** A reporter that prints nothing (library default). */
export const silentReporter: Reporter = createReporter({ quiet: true, stream: { write: () => undefined } });
