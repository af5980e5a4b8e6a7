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
