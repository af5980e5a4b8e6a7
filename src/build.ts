/**
 * `bulkhead/build`: build-time helpers — circuit artifacts (compile, Groth16 setup, phase-2
 * contributions, content-hashed cache), powers of tau, the Solidity verifiers and registry,
 * the binary header readers (r1cs, ptau), the native prover build and the circuits' native
 * witness generators.
 */
export * from "./toolchain/artifacts.js";
export * from "./toolchain/binfile.js";
export * from "./toolchain/compile.js";
export * from "./toolchain/contracts.js";
export * from "./toolchain/native.js";
export * from "./toolchain/ptau.js";
export * from "./toolchain/witness.js";
