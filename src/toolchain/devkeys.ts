/**
 * Development keys, recognised from the key itself.
 *
 * A Groth16 key's `vk_alpha_1` and `vk_beta_2` are alpha·G1 and beta·G2 of the powers of tau the
 * key was made from (phase 2 does not change them). A development ptau's randomness is public:
 * the one `src/toolchain/ptau.ts` generates comes from a fixed, labelled beacon (the same alpha and
 * beta at every power), and the shared development files (`pot16_dev.ptau`, `pot17_dev.ptau`)
 * were made with published entropy. Whoever knows alpha, beta and tau can forge proofs under any
 * key derived from them, so such a key is untrusted whatever a bundle's `devSetup` flag says.
 *
 * The constants below were read once from those files (section 4, alphaTauG1[0], and section 6,
 * betaG2, in affine decimal form) and are checked by test/unit/devkeys.test.ts: the generated
 * one by regenerating it, the shared ones against the files when they are present.
 */

export interface DevPtauKey {
  name: string;
  alpha1: readonly [string, string];
  beta2: readonly [readonly [string, string], readonly [string, string]];
}

export const DEV_PTAU_KEYS: readonly DevPtauKey[] = [
  {
    name: "bulkhead generated development ptau (deterministic beacon)",
    alpha1: [
      "4224563149309469634394574168364993457564706539178900236796157035510553728308",
      "14544479590587594848909570647941627172756019893623681869934787931696357336214",
    ],
    beta2: [
      [
        "21128660886999019599075055441499132787743896610316983264144937837745796362146",
        "2681521390886980088148623659077809291815292151868435435875796065871932000746",
      ],
      [
        "3838980721876485849474900037117948984606187704400165697944031433151174356063",
        "8283463106223989628838404894594977809354977618559148327381081686467124383754",
      ],
    ],
  },
  {
    name: "shared development ptau pot16_dev.ptau",
    alpha1: [
      "3750463342027144154070676691164099522744603137609014405166255403642146911502",
      "14408182619633433847518147129505964318632323848473164073716161581303109949879",
    ],
    beta2: [
      [
        "2175215939459300229971691041381889799922701369206719910890083595604476140173",
        "6201048295308777795541826736895149421180197368836679017665695965764434005527",
      ],
      [
        "15081586641101065178918714999456092055807314682736969300343584725559361147918",
        "7587444084993635336501302763053604294805965749687291063715517640636096483425",
      ],
    ],
  },
  {
    name: "shared development ptau pot17_dev.ptau",
    alpha1: [
      "424255036258775192397221272768581108276152851603092061093529535958075205042",
      "12576544082900758914884500993061980573926935627961375900607988586986030488421",
    ],
    beta2: [
      [
        "16797107678181980000350238307479599714517770504516965120196019349321681504703",
        "6744729134686994919081735040714415025971759357401924221669616250387762208112",
      ],
      [
        "854655668423216940296630140196652851686051301816453718984970786495639837953",
        "11470046450127880399444293385872695509424348515924055023132377894267722122442",
      ],
    ],
  },
];

const str = (v: unknown): string => (typeof v === "string" || typeof v === "number" ? String(v) : "");
const at = (v: unknown, i: number): unknown => (Array.isArray(v) ? v[i] : undefined);

/**
 * The development ptau a verification key (snarkjs JSON) was made from, or null. Compares the
 * affine coordinates of vk_alpha_1 and vk_beta_2 with every known development ptau's.
 */
export function developmentKeyOrigin(vkey: unknown): string | null {
  if (typeof vkey !== "object" || vkey === null) return null;
  const v = vkey as Record<string, unknown>;
  const a = v.vk_alpha_1;
  const b = v.vk_beta_2;
  for (const k of DEV_PTAU_KEYS) {
    const alphaEq = str(at(a, 0)) === k.alpha1[0] && str(at(a, 1)) === k.alpha1[1];
    const betaEq = [0, 1].every((i) => [0, 1].every((j) => str(at(at(b, i), j)) === k.beta2[i]?.[j]));
    // either one alone betrays the ptau: alpha and beta are both its public randomness
    if (alphaEq || betaEq) return k.name;
  }
  return null;
}

/** 32-byte big-endian hex (no 0x) of a decimal coordinate, as it appears in verifier bytecode. */
const word = (dec: string): string => BigInt(dec).toString(16).padStart(64, "0");

/**
 * The development ptau whose alpha (x) is inlined in a deployed snarkjs verifier's runtime code,
 * or null. snarkjs verifiers hold the key as PUSH32 constants; alpha's x coordinate (a 254-bit
 * value) appearing in the code of a verifier is as good as the key itself for this purpose.
 */
export function developmentVerifierOrigin(runtimeCode: string): string | null {
  const code = runtimeCode.toLowerCase().replace(/^0x/, "");
  for (const k of DEV_PTAU_KEYS) {
    if (code.includes(`7f${word(k.alpha1[0])}`) || code.includes(`7f${word(k.beta2[0][0])}`)) return k.name;
  }
  return null;
}
