/**
 * The plain-text table of the CLI reports (prove summary, audit, chain status): columns padded
 * to their widest cell, two spaces apart, trailing blanks trimmed; optionally a dashed rule under
 * the header row and an indent before every line.
 */
export function formatTable(
  rows: readonly (readonly string[])[],
  opts: { rule?: boolean; indent?: string } = {},
): string[] {
  const indent = opts.indent ?? "";
  const widths = rows[0]?.map((_, k) => Math.max(...rows.map((r) => (r[k] ?? "").length))) ?? [];
  const lines: string[] = [];
  for (const [n, r] of rows.entries()) {
    lines.push(
      `${indent}${r
        .map((c, k) => c.padEnd(widths[k] ?? 0))
        .join("  ")
        .trimEnd()}`,
    );
    if (n === 0 && opts.rule) lines.push(`${indent}${widths.map((w) => "-".repeat(w)).join("  ")}`);
  }
  return lines;
}
