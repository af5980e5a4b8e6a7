/**
 * Typed facade over snarkjs 0.7 (which ships no types): use `sj` for precise signatures. The same
 * file serves Node and the browser: snarkjs's package exports pick its Node or browser build.
 */
import * as snarkjsModule from "snarkjs";

export interface Logger {
  info(msg: string): void;
  debug(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface Groth16Proof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol: string;
  curve: string;
}

export type PublicSignals = string[];

export type FileLike = string | Uint8Array | { type: "mem"; data?: Uint8Array };

export interface SnarkjsApi {
  groth16: {
    fullProve(
      input: Record<string, unknown>,
      wasmFile: FileLike,
      zkeyFile: FileLike,
      logger?: Logger,
      wtnsCalcOptions?: unknown,
      proverOptions?: unknown,
    ): Promise<{ proof: Groth16Proof; publicSignals: PublicSignals }>;
    prove(
      zkeyFile: FileLike,
      witnessFile: FileLike,
      logger?: Logger,
    ): Promise<{ proof: Groth16Proof; publicSignals: PublicSignals }>;
    verify(
      vkey: unknown,
      publicSignals: PublicSignals,
      proof: Groth16Proof,
      logger?: Logger,
    ): Promise<boolean>;
    exportSolidityCallData(proof: Groth16Proof, publicSignals: PublicSignals): Promise<string>;
  };
  wtns: {
    calculate(
      input: Record<string, unknown>,
      wasmFile: FileLike,
      wtnsFile: FileLike,
      options?: unknown,
    ): Promise<void>;
    check(r1csFile: FileLike, wtnsFile: FileLike, logger?: Logger): Promise<boolean>;
    exportJson(wtnsFile: FileLike): Promise<bigint[]>;
  };
  r1cs: {
    info(
      r1csFile: FileLike,
      logger?: Logger,
    ): Promise<{
      nConstraints: number;
      nVars: number;
      nOutputs: number;
      nPubInputs: number;
      nPrvInputs: number;
      nLabels: number;
      prime: bigint;
      curve: { terminate(): Promise<void> };
    }>;
  };
  powersOfTau: {
    newAccumulator(curve: unknown, power: number, fileName: string, logger?: Logger): Promise<unknown>;
    contribute(
      oldPtau: string,
      newPtau: string,
      name: string,
      entropy: string,
      logger?: Logger,
    ): Promise<unknown>;
    beacon(
      oldPtau: string,
      newPtau: string,
      name: string,
      beaconHashHex: string,
      numIterationsExp: number,
      logger?: Logger,
    ): Promise<unknown>;
    preparePhase2(oldPtau: string, newPtau: string, logger?: Logger): Promise<void>;
    verify(ptau: string, logger?: Logger): Promise<boolean>;
  };
  zKey: {
    newZKey(r1cs: FileLike, ptau: FileLike, zkey: FileLike, logger?: Logger): Promise<unknown>;
    contribute(
      oldZkey: FileLike,
      newZkey: FileLike,
      name: string,
      entropy: string,
      logger?: Logger,
    ): Promise<unknown>;
    beacon(
      oldZkey: FileLike,
      newZkey: FileLike,
      name: string,
      beaconHashHex: string,
      numIterationsExp: number,
      logger?: Logger,
    ): Promise<unknown>;
    verifyFromR1cs(r1cs: FileLike, ptau: FileLike, zkey: FileLike, logger?: Logger): Promise<boolean>;
    exportVerificationKey(zkey: FileLike, logger?: Logger): Promise<Record<string, unknown>>;
    exportSolidityVerifier(zkey: FileLike, templates: { groth16: string }, logger?: Logger): Promise<string>;
  };
  curves: {
    getCurveFromName(
      name: string,
      options?: { singleThread?: boolean },
    ): Promise<{ terminate(): Promise<void> }>;
  };
}

/** snarkjs, typed. */
export const sj = snarkjsModule as unknown as SnarkjsApi;
