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

declare module "snarkjs" {
  export interface Groth16Proof {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  }
  export const groth16: {
    fullProve(
      input: unknown,
      wasm: string | Uint8Array,
      zkey: string | Uint8Array,
      logger?: unknown,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    prove(
      zkey: string | Uint8Array,
      witness: string | Uint8Array,
      logger?: unknown,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(
      vkey: unknown,
      publicSignals: (string | bigint)[],
      proof: Groth16Proof,
      logger?: unknown,
    ): Promise<boolean>;
    exportSolidityCallData(proof: Groth16Proof, publicSignals: string[]): Promise<string>;
  };
  export const wtns: {
    calculate(
      input: unknown,
      wasm: string | Uint8Array,
      wtnsFile: string | { type: string },
      logger?: unknown,
    ): Promise<void>;
    check?(r1cs: string, wtns: string, logger?: unknown): Promise<boolean>;
  };
  export const zKey: Record<string, (...args: unknown[]) => Promise<unknown>>;
  export const powersOfTau: Record<string, (...args: unknown[]) => Promise<unknown>>;
  export const r1cs: Record<string, (...args: unknown[]) => Promise<unknown>>;
  export const plonk: Record<string, (...args: unknown[]) => Promise<unknown>>;
  export const fflonk: Record<string, (...args: unknown[]) => Promise<unknown>>;
}
