/** bulkhead library entry point. */
export * from "./artifacts.js";
export * from "./binfile.js";
export * from "./contracts-build.js";
export * from "./curve.js";
export * from "./fsutil.js";
export * from "./hash.js";
export * from "./paths.js";
export * from "./profiles.js";
export * from "./progress.js";
export * from "./ptau.js";
export * from "./snarkjs.js";
