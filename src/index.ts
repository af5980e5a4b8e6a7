/** bulkhead library entry point. */

export * from "./spec/profiles.js";
export * from "./toolchain/artifacts.js";
export * from "./toolchain/binfile.js";
export * from "./toolchain/contracts.js";
export * from "./toolchain/ptau.js";
export * from "./util/curve.js";
export * from "./util/fsutil.js";
export * from "./util/hash.js";
export * from "./util/paths.js";
export * from "./util/progress.js";
export * from "./util/snarkjs.js";
