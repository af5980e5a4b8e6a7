// snarkjs ships no types; the browser shim (shims/snarkjs.ts) casts it to the typed facade.
declare module "snarkjs";
