/**
 * The receipt page: the user gives a receipt (file picker or drop; read locally, never sent) and a
 * bundle (URL or files); the page runs the library's receipt check and full epoch audit in the
 * browser and says, in plain words, what it found.
 */
import { emptyReport } from "../../src/audit/audit.js";
import { AUDIT_CSS, esc, renderAuditSection } from "../../src/audit/html.js";
import { loadAnchor } from "./anchor.js";
import {
  type BundleSource,
  bundleFromFiles,
  bundleFromUrl,
  checkReceipt,
  checkReceiptOnChain,
  MissingFilesError,
} from "./check.js";
import { renderChainResult, renderResult } from "./render.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const value = (id: string) => $<HTMLInputElement>(id).value.trim();

const state: { receipt?: unknown; receiptName?: string; files?: File[] } = {};
const ANCHOR = await loadAnchor();

function refresh(): void {
  const haveBundle =
    $<HTMLInputElement>("bundle-url").value.trim() !== "" ||
    (state.files?.length ?? 0) > 0 ||
    (value("rpc-url") !== "" && value("registry") !== "");
  const ready = state.receipt !== undefined && haveBundle;
  $<HTMLButtonElement>("check").disabled = !ready;
  $("check-hint").textContent = ready ? "" : "Choose a receipt and a bundle first.";
}

async function takeReceipt(file: File | undefined): Promise<void> {
  if (!file) return;
  const status = $("receipt-status");
  try {
    const parsed: unknown = JSON.parse(await file.text());
    if (typeof parsed !== "object" || parsed === null) throw new Error("not a JSON object");
    state.receipt = parsed;
    state.receiptName = file.name;
    const r = parsed as { kind?: unknown; lotId?: unknown; account?: unknown; epoch?: unknown };
    const who =
      r.kind === "lot"
        ? `lot ${String(r.lotId)}`
        : r.kind === "account"
          ? `account ${String(r.account)}`
          : "unknown kind";
    status.innerHTML = `Receipt <code>${esc(file.name)}</code> loaded (${esc(who)}, epoch ${esc(r.epoch)}). It stays in this page.`;
  } catch (err) {
    state.receipt = undefined;
    status.innerHTML = `<span class="no">${esc(file.name)} is not a receipt file: ${esc((err as Error).message)}</span>`;
  }
  refresh();
}

function progress(done: number, total: number): void {
  $("progress").style.display = "block";
  $<HTMLProgressElement>("progress-bar").max = Math.max(1, total);
  $<HTMLProgressElement>("progress-bar").value = done;
  $("progress-text").textContent = `verifying zero-knowledge proofs: ${done} of ${total}`;
}

async function run(): Promise<void> {
  const out = $("result");
  const button = $<HTMLButtonElement>("check");
  button.disabled = true;
  out.hidden = false;
  out.dataset.state = "running";
  out.innerHTML = `<p class="mute">Loading the bundle…</p>`;
  progress(0, 0);
  $("progress-text").textContent = "loading the bundle…";
  try {
    const url = value("bundle-url");
    if (!state.files?.length && url === "") {
      out.dataset.state = renderChainResult(
        out,
        await checkReceiptOnChain(state.receipt, value("rpc-url"), value("registry"), ANCHOR.allowDevKeys),
      );
      return;
    }
    const src: BundleSource = state.files?.length
      ? await bundleFromFiles(state.files)
      : await bundleFromUrl(url);
    const trustBundle = $<HTMLInputElement>("trust-bundle-keys").checked;
    const res = await checkReceipt(state.receipt, src, ANCHOR, trustBundle, progress);
    out.dataset.state = renderResult(out, res, src);
    const details = document.createElement("details");
    details.innerHTML = `<summary>Full audit of the epoch</summary>${renderAuditSection(
      res.verdict.audit ?? emptyReport(res.verdict.reasons),
    )}`;
    if (res.verdict.audit) out.append(details);
  } catch (err) {
    const missing = err instanceof MissingFilesError;
    out.dataset.state = missing ? "missing-files" : "error";
    out.innerHTML = `<div class="verdict state-error">${missing ? "FILES MISSING: NOTHING WAS CHECKED" : "COULD NOT CHECK"}<small>${esc((err as Error).message)}</small></div>`;
  } finally {
    $("progress").style.display = "none";
    refresh();
  }
}

function wire(): void {
  const style = document.createElement("style");
  style.textContent = AUDIT_CSS; // the audit report's own styles, for the "full audit" section
  document.head.append(style);
  const drop = $("receipt-drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    void takeReceipt(e.dataTransfer?.files[0]);
  });
  $<HTMLInputElement>("receipt-file").addEventListener("change", (e) => {
    void takeReceipt((e.target as HTMLInputElement).files?.[0]);
  });
  $<HTMLInputElement>("bundle-files").addEventListener("change", (e) => {
    state.files = [...((e.target as HTMLInputElement).files ?? [])];
    refresh();
  });
  for (const id of ["bundle-url", "rpc-url", "registry"]) $(id).addEventListener("input", refresh);
  $("check").addEventListener("click", () => void run());
  const preset = new URLSearchParams(location.search).get("bundle");
  if (preset) $<HTMLInputElement>("bundle-url").value = preset;
  const keys = ANCHOR.local.map((k) => `${k.circuit}-${k.profile}`);
  const pins = Object.keys(ANCHOR.pinned);
  const none = keys.length === 0 && pins.length === 0;
  $("anchor").innerHTML = `Key anchor of this page: ${
    keys.length ? `its host's verification keys (${esc(keys.join(", "))})` : "no local keys"
  }${pins.length ? `; pinned hashes for ${esc(pins.join(", "))}` : ""}. ${
    none
      ? `<span class="no">This page has no trusted keys: it refuses to verify a bundle unless you tick the box below.</span>`
      : "A bundle whose keys differ is rejected; a bundle of another circuit profile is refused."
  } Development keys: ${
    ANCHOR.allowDevKeys
      ? `<span class="no">accepted (its host set it up as a demo); the result still says NOT TRUSTWORTHY</span>`
      : "refused (NOT TRUSTWORTHY)"
  }.`;
  refresh();
}

wire();
