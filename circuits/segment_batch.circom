pragma circom 2.1.6;

include "gadgets.circom";

/// @title SegmentParams
/// @notice Unpacks and checks the public parameters of one segment batch (docs/SPEC.md,
///         "Packed public inputs"):
///           meta = segmentId | marginBps << 32 | isFirst << 48 | isLast << 49 | epoch << 50
///           params[k] = slotWord(2k) | slotWord(2k+1) << 112, slotWord(j) = price_j | cf_j << 96
///         and derives the per-slot weights the solvency rule uses:
///           collWeight[j] = price_j * cf_j,  liabWeight[j] = price_j * (10000 + marginBps)
/// @param A  asset slots, 1 <= A <= 16
/// @input meta, params[ceil(A/2)]  packed public inputs
/// @output segmentId (< 2^32), isFirst, isLast (boolean), collWeight[A] (< 2^110),
///         liabWeight[A] (< 2^113)
/// @limits price in [1, 2^96), cf <= 10000, marginBps < 2^16, epoch < 2^64
/// @cost 115 + 225 * ceil(A/2) + 20 * A constraints
template SegmentParams(A) {
    assert(A >= 1 && A <= 16);
    var P = (A + 1) \ 2;
    signal input meta;
    signal input params[P];
    signal output segmentId;
    signal output isFirst;
    signal output isLast;
    signal output collWeight[A];
    signal output liabWeight[A];

    // meta: 32 + 16 + 1 + 1 + 64 = 114 bits; the decomposition also range-checks every field.
    component mb = Num2Bits(114);
    mb.in <== meta;
    var sid = 0;
    for (var i = 0; i < 32; i++) {
        sid += mb.out[i] * (1 << i);
    }
    var margin = 0;
    for (var i = 0; i < 16; i++) {
        margin += mb.out[32 + i] * (1 << i);
    }
    segmentId <== sid;
    isFirst <== mb.out[48];
    isLast <== mb.out[49];
    // bits 50..113 are the epoch: bound by the decomposition, used by no other constraint.

    component pb[P];
    signal price[A];
    signal cf[A];
    signal priceInv[A];
    component cfMax[A];
    for (var k = 0; k < P; k++) {
        pb[k] = Num2Bits(224);
        pb[k].in <== params[k];
        for (var h = 0; h < 2; h++) {
            var j = 2 * k + h;
            var pr = 0;
            var cfv = 0;
            for (var i = 0; i < 96; i++) {
                pr += pb[k].out[112 * h + i] * (1 << i);
            }
            for (var i = 0; i < 16; i++) {
                cfv += pb[k].out[112 * h + 96 + i] * (1 << i);
            }
            if (j < A) {
                price[j] <== pr;
                cf[j] <== cfv;
            } else {
                // odd A: the unused high half of the last word must be zero
                pr === 0;
                cfv === 0;
            }
        }
    }
    for (var j = 0; j < A; j++) {
        // price >= 1: price has an inverse
        priceInv[j] <-- price[j] != 0 ? 1 / price[j] : 0;
        price[j] * priceInv[j] === 1;
        // cf <= 10000 (cf < 2^16 from the decomposition)
        cfMax[j] = LessThan(16);
        cfMax[j].in[0] <== cf[j];
        cfMax[j].in[1] <== 10001;
        cfMax[j].out === 1;
        collWeight[j] <== price[j] * cf[j];
        liabWeight[j] <== price[j] * (10000 + margin);
    }
}

/// @title SegmentBatch
/// @notice One batch of one segment's solvency proof (docs/SPEC.md). Proves that:
///   - every active lot leaf H5(lotId, segmentId, slot, amount, salt) and liability leaf
///     H5(accountId, segmentId, slot, amount, salt) is in the public batchRoot =
///     H2(lotRoot, liabRoot) (binary Poseidon Merkle trees, padding leaves = 0);
///   - running sums are carried from prevState to nextState = H4(coll, liab, fp, salt); the
///     first batch starts from the canonical empty state (prevState = 0, sums 0, fp 1);
///     coll += amount * price * cf, liab += amount * price * (10000 + margin), per slot;
///   - fp *= (r - leaf) over active lots; padding is inert (no value, factor 1, leaf 0);
///   - on the last batch: healthy = (coll >= liab), fingerprint = fp; otherwise both are 0.
/// @param N  lots per batch (power of two, <= 128)
/// @param M  liabilities per batch (power of two, <= 128)
/// @param A  asset slots per segment (<= 16)
/// @input r  public fingerprint challenge, derived from the manifest
/// @input prevState  public chained state (0 on the first batch)
/// @input meta, params  packed public segment parameters and flags (see SegmentParams)
/// @input prevColl, prevLiab, prevFp, prevSalt  private opening of prevState
/// @input nextSalt  private salt of nextState
/// @input lotId/lotSlot/lotAmount/lotSalt/lotActive[N]  private lots (active = prefix)
/// @input liabAccount/liabSlot/liabAmount/liabSalt/liabActive[M]  private liabilities
/// @output nextState, batchRoot, healthy, fingerprint
/// @limits amount < 2^96; input and output sums < 2^240 (checked each batch; docs/SPEC.md "Bounds")
/// @cost about 670 constraints per lot, 660 per liability, 240 per Merkle node, 2,400 per batch
///       (A = 8); pinned per profile in test/circuits.test.ts
template SegmentBatch(N, M, A) {
    assert(N >= 1 && N <= 128 && (N & (N - 1)) == 0);
    assert(M >= 1 && M <= 128 && (M & (M - 1)) == 0);
    assert(A >= 1 && A <= 16);
    var P = (A + 1) \ 2;
    var AMOUNT_BITS = 96;
    var SUM_BITS = 240;

    signal input r;
    signal input prevState;
    signal input meta;
    signal input params[P];

    signal input prevColl;
    signal input prevLiab;
    signal input prevFp;
    signal input prevSalt;
    signal input nextSalt;

    signal input lotId[N];
    signal input lotSlot[N];
    signal input lotAmount[N];
    signal input lotSalt[N];
    signal input lotActive[N];

    signal input liabAccount[M];
    signal input liabSlot[M];
    signal input liabAmount[M];
    signal input liabSalt[M];
    signal input liabActive[M];

    signal output nextState;
    signal output batchRoot;
    signal output healthy;
    signal output fingerprint;

    component sp = SegmentParams(A);
    sp.meta <== meta;
    for (var k = 0; k < P; k++) {
        sp.params[k] <== params[k];
    }

    component start = ChainStart(3, [0, 0, 1]);
    start.isFirst <== sp.isFirst;
    start.prevState <== prevState;
    start.values[0] <== prevColl;
    start.values[1] <== prevLiab;
    start.values[2] <== prevFp;
    start.salt <== prevSalt;
    // Each batch checks its input sums too, so no batch on its own can start near the modulus.
    component prevCollRange = RangeCheck(SUM_BITS);
    prevCollRange.in <== prevColl;
    component prevLiabRange = RangeCheck(SUM_BITS);
    prevLiabRange.in <== prevLiab;

    // ---- collateral lots
    component lotActiveBool[N];
    component lotRange[N];
    component lotSel[N];
    component lotHash[N];
    component lotFactor[N];
    signal lotSlotAmount[N][A];
    signal fp[N + 1];
    fp[0] <== prevFp;
    var collSlot[A];
    for (var j = 0; j < A; j++) {
        collSlot[j] = 0;
    }
    for (var i = 0; i < N; i++) {
        lotActiveBool[i] = Boolean();
        lotActiveBool[i].in <== lotActive[i];
        if (i > 0) {
            lotActive[i] * (1 - lotActive[i - 1]) === 0;
        }
        // padding carries no amount (it would select no slot anyway: belt and braces)
        (1 - lotActive[i]) * lotAmount[i] === 0;
        lotRange[i] = RangeCheck(AMOUNT_BITS);
        lotRange[i].in <== lotAmount[i];
        lotSel[i] = SlotSelect(A);
        lotSel[i].slot <== lotSlot[i];
        lotSel[i].active <== lotActive[i];
        for (var j = 0; j < A; j++) {
            lotSlotAmount[i][j] <== lotSel[i].bits[j] * lotAmount[i];
            collSlot[j] += lotSlotAmount[i][j];
        }
        lotHash[i] = Poseidon(5);
        lotHash[i].inputs[0] <== lotId[i];
        lotHash[i].inputs[1] <== sp.segmentId;
        lotHash[i].inputs[2] <== lotSlot[i];
        lotHash[i].inputs[3] <== lotAmount[i];
        lotHash[i].inputs[4] <== lotSalt[i];
        lotFactor[i] = FingerprintFactor();
        lotFactor[i].active <== lotActive[i];
        lotFactor[i].r <== r;
        lotFactor[i].leafHash <== lotHash[i].out;
        fp[i + 1] <== fp[i] * lotFactor[i].factor;
    }
    component lotTree = MerkleTreeRoot(log2ceil(N));
    for (var i = 0; i < N; i++) {
        lotTree.leaves[i] <== lotFactor[i].usedLeaf;
    }

    // ---- liabilities
    component liabActiveBool[M];
    component liabRange[M];
    component liabSel[M];
    component liabHash[M];
    signal liabSlotAmount[M][A];
    signal liabLeaf[M];
    var liabSlotSum[A];
    for (var j = 0; j < A; j++) {
        liabSlotSum[j] = 0;
    }
    for (var i = 0; i < M; i++) {
        liabActiveBool[i] = Boolean();
        liabActiveBool[i].in <== liabActive[i];
        if (i > 0) {
            liabActive[i] * (1 - liabActive[i - 1]) === 0;
        }
        (1 - liabActive[i]) * liabAmount[i] === 0;
        liabRange[i] = RangeCheck(AMOUNT_BITS);
        liabRange[i].in <== liabAmount[i];
        liabSel[i] = SlotSelect(A);
        liabSel[i].slot <== liabSlot[i];
        liabSel[i].active <== liabActive[i];
        for (var j = 0; j < A; j++) {
            liabSlotAmount[i][j] <== liabSel[i].bits[j] * liabAmount[i];
            liabSlotSum[j] += liabSlotAmount[i][j];
        }
        liabHash[i] = Poseidon(5);
        liabHash[i].inputs[0] <== liabAccount[i];
        liabHash[i].inputs[1] <== sp.segmentId;
        liabHash[i].inputs[2] <== liabSlot[i];
        liabHash[i].inputs[3] <== liabAmount[i];
        liabHash[i].inputs[4] <== liabSalt[i];
        liabLeaf[i] <== liabActive[i] * liabHash[i].out;
    }
    component liabTree = MerkleTreeRoot(log2ceil(M));
    for (var i = 0; i < M; i++) {
        liabTree.leaves[i] <== liabLeaf[i];
    }

    // ---- weighted sums: per-slot amount totals times public per-slot weights
    signal collTerm[A];
    signal liabTerm[A];
    var collAdd = 0;
    var liabAdd = 0;
    for (var j = 0; j < A; j++) {
        collTerm[j] <== collSlot[j] * sp.collWeight[j];
        liabTerm[j] <== liabSlotSum[j] * sp.liabWeight[j];
        collAdd += collTerm[j];
        liabAdd += liabTerm[j];
    }
    signal nextColl <== prevColl + collAdd;
    signal nextLiab <== prevLiab + liabAdd;
    component collRange = RangeCheck(SUM_BITS);
    collRange.in <== nextColl;
    component liabRange2 = RangeCheck(SUM_BITS);
    liabRange2.in <== nextLiab;

    component stateHash = Poseidon(4);
    stateHash.inputs[0] <== nextColl;
    stateHash.inputs[1] <== nextLiab;
    stateHash.inputs[2] <== fp[N];
    stateHash.inputs[3] <== nextSalt;
    nextState <== stateHash.out;

    component rootHash = Poseidon(2);
    rootHash.inputs[0] <== lotTree.root;
    rootHash.inputs[1] <== liabTree.root;
    batchRoot <== rootHash.out;

    component geq = SafeGreaterEqThan(SUM_BITS);
    geq.a <== nextColl;
    geq.b <== nextLiab;
    healthy <== sp.isLast * geq.out;
    fingerprint <== sp.isLast * fp[N];
}
