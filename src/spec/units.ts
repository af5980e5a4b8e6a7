/**
 * Units and decimals (SPEC "Prices in circuit units", rounding rules): pure, no I/O, shared by the
 * snapshot parser, the audit, the receipts and the browser page.
 */

export type Rounding = "exact" | "down" | "up";

export type DecimalResult = { ok: true; value: bigint; rounded: boolean } | { ok: false; error: string };

/**
 * Converts a non-negative decimal (string, or an integral JSON number) to an integer scaled by
 * 10^decimals. `rounding` says what to do with extra fractional digits.
 */
export function parseDecimal(raw: unknown, decimals: number, rounding: Rounding): DecimalResult {
  let s: string;
  if (typeof raw === "number") {
    if (!Number.isFinite(raw)) return { ok: false, error: "not a number" };
    if (raw < 0) return { ok: false, error: "negative" };
    if (!Number.isSafeInteger(raw)) {
      return { ok: false, error: "fractional or large JSON number; write it as a decimal string" };
    }
    s = String(raw);
  } else if (typeof raw === "string") {
    s = raw;
  } else if (raw === undefined || raw === null) {
    return { ok: false, error: "missing" };
  } else {
    return { ok: false, error: "not a decimal string" };
  }
  if (/^-\s*\d/.test(s.trim())) return { ok: false, error: "negative" };
  const m = /^(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) return { ok: false, error: `not a decimal number: ${JSON.stringify(s)}` };
  const intPart = m[1] as string;
  let frac = m[2] ?? "";
  let rounded = false;
  let bump = 0n;
  if (frac.length > decimals) {
    const extra = frac.slice(decimals);
    if (/[1-9]/.test(extra)) {
      if (rounding === "exact") {
        return { ok: false, error: `too precise: more than ${decimals} fractional digits` };
      }
      rounded = true;
      if (rounding === "up") bump = 1n;
    }
    frac = frac.slice(0, decimals);
  }
  const value = BigInt(intPart + frac.padEnd(decimals, "0")) + bump;
  return { ok: true, value, rounded };
}

/** Formats an integer scaled by 10^decimals as a canonical decimal string (no trailing zeros). */
export function formatDecimal(value: bigint, decimals: number): string {
  const neg = value < 0n;
  const v = neg ? -value : value;
  const scale = 10n ** BigInt(decimals);
  const intPart = v / scale;
  let frac = decimals > 0 ? (v % scale).toString().padStart(decimals, "0") : "";
  frac = frac.replace(/0+$/, "");
  return `${neg ? "-" : ""}${intPart}${frac ? `.${frac}` : ""}`;
}

/** Circuit price (SPEC "Prices in circuit units") from a price scaled by 10^PRICE_DECIMALS. */
export function circuitPriceOf(priceScaled: bigint, decimals: number, maxDecimals: number): bigint {
  return priceScaled * 10n ** BigInt(maxDecimals - decimals);
}
