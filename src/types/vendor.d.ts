// Minimal typings for untyped dependencies (only what bulkhead uses).
declare module "circomlibjs" {
  interface PoseidonField {
    toObject(x: unknown): bigint;
    e(x: bigint | number | string): unknown;
  }
  interface Poseidon {
    (inputs: (bigint | number | string)[]): unknown;
    F: PoseidonField;
  }
  export function buildPoseidon(): Promise<Poseidon>;
}
// circom_runtime: snarkjs' witness engine, used directly by the witness-level circuit tests.
declare module "circom_runtime" {
  interface WitnessCalculator {
    calculateWitness(input: Record<string, unknown>, sanityCheck: boolean): Promise<bigint[]>;
  }
  export function WitnessCalculatorBuilder(code: Uint8Array): Promise<WitnessCalculator>;
}
// snarkjs ships no types: util/snarkjs.ts casts it to its typed facade.
declare module "snarkjs";
