pragma circom 2.1.6;

include "gadgets.circom";

/// @title LotListBatch
/// @notice One batch of the epoch's global lot list (docs/SPEC.md). Proves that:
///   - the active lots' ids are strictly increasing, inside the batch and across batches (the
///     last id is part of the chained state): id_i = last + 1 + gap_i with gap_i < 2^128, so as
///     integers (no wrap: fewer than 2^120 lots make last < 2^248 < p) every id is larger than
///     every earlier one, and no lotId occurs twice in the epoch;
///   - commitment = chained Poseidon over the slot leaves H5(lotId, segmentId, slot, amount,
///     salt) (padding = 0), the same leaves the segment batches commit to;
///   - fp *= (r - leaf) over active lots, carried in nextState = H3(lastId, fp, salt); the first
///     batch starts from the canonical empty state (prevState = 0, lastId 0, fp 1);
///   - fingerprint = fp on the last batch, 0 otherwise.
/// With `prod over segments fingerprint_s == fingerprint` checked by the verifier, the multiset
/// of segment lot leaves equals this list (Schwartz-Zippel, error <= n/p), so no lot is counted
/// in two segments nor twice in one.
/// @param G  lots per batch, 1 <= G <= 1024
/// @input r  public fingerprint challenge
/// @input prevState  public chained state (0 on the first batch)
/// @input meta  public isFirst | isLast << 1 | epoch << 2 (epoch < 2^64)
/// @input prevLastId, prevFp, prevSalt  private opening of prevState
/// @input nextSalt  private salt of nextState
/// @input lotId/lotSegment/lotSlot/lotAmount/lotSalt/lotActive[G]  private lots (active = prefix)
/// @output nextState, commitment, fingerprint
/// @limits lotId gaps < 2^128 (lotId < 2^128 by policy)
/// @cost about 500 constraints per lot, 600 per batch; pinned in test/circuits.test.ts
template LotListBatch(G) {
    assert(G >= 1 && G <= 1024);
    var GAP_BITS = 128;

    signal input r;
    signal input prevState;
    signal input meta;

    signal input prevLastId;
    signal input prevFp;
    signal input prevSalt;
    signal input nextSalt;

    signal input lotId[G];
    signal input lotSegment[G];
    signal input lotSlot[G];
    signal input lotAmount[G];
    signal input lotSalt[G];
    signal input lotActive[G];

    signal output nextState;
    signal output commitment;
    signal output fingerprint;

    // meta: isFirst (1) | isLast (1) | epoch (64)
    component mb = Num2Bits(66);
    mb.in <== meta;
    signal isFirst <== mb.out[0];
    signal isLast <== mb.out[1];

    component start = ChainStart(2, [0, 1]);
    start.isFirst <== isFirst;
    start.prevState <== prevState;
    start.values[0] <== prevLastId;
    start.values[1] <== prevFp;
    start.salt <== prevSalt;

    component activeBool[G];
    component hash[G];
    component factor[G];
    component gapRange[G];
    signal gap[G];
    signal last[G + 1];
    signal fp[G + 1];
    last[0] <== prevLastId;
    fp[0] <== prevFp;
    for (var i = 0; i < G; i++) {
        activeBool[i] = Boolean();
        activeBool[i].in <== lotActive[i];
        if (i > 0) {
            lotActive[i] * (1 - lotActive[i - 1]) === 0;
        }
        // strictly increasing ids: gap = id - last - 1 >= 0 (as a < 2^128 integer)
        gap[i] <== lotActive[i] * (lotId[i] - last[i] - 1);
        gapRange[i] = RangeCheck(GAP_BITS);
        gapRange[i].in <== gap[i];
        last[i + 1] <== last[i] + gap[i] + lotActive[i];

        hash[i] = Poseidon(5);
        hash[i].inputs[0] <== lotId[i];
        hash[i].inputs[1] <== lotSegment[i];
        hash[i].inputs[2] <== lotSlot[i];
        hash[i].inputs[3] <== lotAmount[i];
        hash[i].inputs[4] <== lotSalt[i];
        factor[i] = FingerprintFactor();
        factor[i].active <== lotActive[i];
        factor[i].r <== r;
        factor[i].leafHash <== hash[i].out;
        fp[i + 1] <== fp[i] * factor[i].factor;
    }

    component commit = ListCommitment(G);
    for (var i = 0; i < G; i++) {
        commit.leaves[i] <== factor[i].usedLeaf;
    }
    commitment <== commit.out;

    component stateHash = Poseidon(3);
    stateHash.inputs[0] <== last[G];
    stateHash.inputs[1] <== fp[G];
    stateHash.inputs[2] <== nextSalt;
    nextState <== stateHash.out;

    fingerprint <== isLast * fp[G];
}
