/**
 * Browser replacement for src/util/snarkjs.ts: the same `sj` facade, over snarkjs's browser build
 * (the Node facade loads snarkjs through a non-literal import that a bundler cannot follow).
 */
import * as snarkjs from "snarkjs";
import type { SnarkjsApi } from "../../src/util/snarkjs.js";

export type * from "../../src/util/snarkjs.js";
export const sj = snarkjs as unknown as SnarkjsApi;
