pragma circom 2.1.6;

include "gadgets.circom";

/// @title LotListBatch
/// @notice One batch of the epoch's global lot list (docs/SPEC.md). Proves that:
///   - the active lots' ids are strictly increasing, inside the batch and across batches (the
///     last id is part of the chained state): id_i = last + 1 + gap_i with gap_i < 2^128, and
///     every batch's last id is < 2^128, so the ids are integers below 2^128 (no wrap) and no
///     lotId occurs twice in the epoch;
///   - every lot carries a pooled bit (boolean, 0 on padding) and its tag = asset + 16 * pooled;
///   - commitment = ListCommitment over (lotId + 2^128 * tag, amount) per lot (padding: 0, 0),
///     which fixes every tuple before r is derived;
///   - per global asset, the amount totals of the POOLED lots are carried in the state and never
///     exceed the public pooled custody caps (every batch; totals only grow); lots of own-custody
///     segments are bounded by their segment's own caps instead and count nothing here;
///   - fp *= r - (lotId + gamma * amount + gamma^2 * tag) over active lots, gamma = H1(r),
///     carried in nextState = ListCommitment(lastId, fp, total[GA], salt); the first batch
///     starts from the canonical empty state (prevState = 0, lastId 0, fp 1, totals 0);
///   - fingerprint = fp on the last batch, 0 otherwise.
/// With `prod over segments fingerprint_s == fingerprint` checked by the verifier, the multiset
/// of segment lot tuples (lotId, amount, tag) equals this list's (Schwartz-Zippel over
/// (r, gamma), error <= 3n/p), so no lot is counted in two segments nor twice in one, the
/// amounts summed here are the ones the segments counted (each < 2^96, range-checked there), and
/// a lot is pooled here exactly when the slot that counted it is pooled (the segment circuit
/// tags it with its public slot word's pooled bit).
/// @param G  lots per batch, 1 <= G <= 512
/// @param GA  global assets, 1 <= GA <= 16
/// @input r  public fingerprint challenge
/// @input prevState  public chained state (0 on the first batch)
/// @input meta  public isFirst | isLast << 1 | epoch << 2 (epoch < 2^64)
/// @input caps[ceil(GA/2)]  public pooled custody caps, two 120-bit caps per word
/// @input prevLastId, prevFp, prevTotal[GA], prevSalt  private opening of prevState
/// @input nextSalt  private salt of nextState
/// @input lotId/lotAsset/lotPooled/lotAmount/lotActive[G]  private lots (active = prefix)
/// @output nextState, commitment, fingerprint
/// @limits lotId < 2^128; at most 2^24 lots per epoch (totals < 2^120)
/// @cost about 227 + 2 GA constraints per lot, 3,000 per batch; pinned in
///       test/circuits/circuits.test.ts
template LotListBatch(G, GA) {
    assert(G >= 1 && G <= 512);
    assert(GA >= 1 && GA <= 16);
    var ID_BITS = 128;
    var CAP_BITS = 120;
    var P = (GA + 1) \ 2;

    signal input r;
    signal input prevState;
    signal input meta;
    signal input caps[P];

    signal input prevLastId;
    signal input prevFp;
    signal input prevTotal[GA];
    signal input prevSalt;
    signal input nextSalt;

    signal input lotId[G];
    signal input lotAsset[G];
    signal input lotPooled[G];
    signal input lotAmount[G];
    signal input lotActive[G];

    signal output nextState;
    signal output commitment;
    signal output fingerprint;

    // meta: isFirst (1) | isLast (1) | epoch (64)
    component mb = Unpack(3, [1, 1, 64]);
    mb.in <== meta;
    signal isFirst <== mb.out[0];
    signal isLast <== mb.out[1];

    signal cap[GA];
    component cw[P];
    for (var k = 0; k < P; k++) {
        cw[k] = Unpack(2, [CAP_BITS, CAP_BITS]);
        cw[k].in <== caps[k];
        cap[2 * k] <== cw[k].out[0];
        if (2 * k + 1 < GA) {
            cap[2 * k + 1] <== cw[k].out[1];
        } else {
            // odd GA: the unused high half of the last word must be zero
            cw[k].out[1] === 0;
        }
    }

    var EMPTY[GA + 2];
    EMPTY[0] = 0;
    EMPTY[1] = 1;
    for (var k = 0; k < GA; k++) {
        EMPTY[2 + k] = 0;
    }
    component start = ChainStart(GA + 2, EMPTY);
    start.isFirst <== isFirst;
    start.prevState <== prevState;
    start.values[0] <== prevLastId;
    start.values[1] <== prevFp;
    for (var k = 0; k < GA; k++) {
        start.values[2 + k] <== prevTotal[k];
    }
    start.salt <== prevSalt;

    component ch = Challenges();
    ch.r <== r;

    component activeBool[G];
    component pooledBool[G];
    signal tag[G];
    signal pooledAmount[G];
    component gapRange[G];
    component sel[G];
    component factor[G];
    signal gap[G];
    signal last[G + 1];
    signal fp[G + 1];
    signal usedId[G];
    signal amountTerm[G];
    signal assetTerm[G];
    signal slotAmount[G][GA];
    last[0] <== prevLastId;
    fp[0] <== prevFp;
    for (var i = 0; i < G; i++) {
        activeBool[i] = Boolean();
        activeBool[i].in <== lotActive[i];
        if (i > 0) {
            lotActive[i] * (1 - lotActive[i - 1]) === 0;
        }
        (1 - lotActive[i]) * lotAmount[i] === 0;
        // pooled: boolean, 0 on padding (pooled <= active); tag = asset + 16 * pooled (asset < GA)
        pooledBool[i] = Boolean();
        pooledBool[i].in <== lotPooled[i];
        lotPooled[i] * (1 - lotActive[i]) === 0;
        tag[i] <== lotAsset[i] + 16 * lotPooled[i];
        pooledAmount[i] <== lotPooled[i] * lotAmount[i];
        // strictly increasing ids: gap = id - last - 1 >= 0 (as a < 2^128 integer)
        gap[i] <== lotActive[i] * (lotId[i] - last[i] - 1);
        usedId[i] <== lotActive[i] * lotId[i];
        gapRange[i] = RangeCheck(ID_BITS);
        gapRange[i].in <== gap[i];
        last[i + 1] <== last[i] + gap[i] + lotActive[i];

        sel[i] = SlotSelect(GA);
        sel[i].slot <== lotAsset[i];
        sel[i].active <== lotActive[i];
        for (var k = 0; k < GA; k++) {
            slotAmount[i][k] <== sel[i].bits[k] * pooledAmount[i];
        }

        amountTerm[i] <== ch.gamma * lotAmount[i];
        assetTerm[i] <== ch.gamma2 * tag[i];
        factor[i] = TupleFactor();
        factor[i].active <== lotActive[i];
        factor[i].r <== r;
        factor[i].tuple <== lotId[i] + amountTerm[i] + assetTerm[i];
        fp[i + 1] <== fp[i] * factor[i].factor;
    }
    // every id of the batch is <= last[G] < 2^128: (id, tag) packs uniquely below
    component lastRange = RangeCheck(ID_BITS);
    lastRange.in <== last[G];

    component commit = ListCommitment(2 * G);
    for (var i = 0; i < G; i++) {
        commit.leaves[2 * i] <== usedId[i] + (1 << ID_BITS) * tag[i];
        commit.leaves[2 * i + 1] <== lotAmount[i];
    }
    commitment <== commit.out;

    signal nextTotal[GA];
    component capBound[GA];
    for (var k = 0; k < GA; k++) {
        var t = prevTotal[k];
        for (var i = 0; i < G; i++) {
            t += slotAmount[i][k];
        }
        nextTotal[k] <== t;
        capBound[k] = CapBound(CAP_BITS);
        capBound[k].total <== nextTotal[k];
        capBound[k].cap <== cap[k];
    }

    component stateHash = ListCommitment(GA + 3);
    stateHash.leaves[0] <== last[G];
    stateHash.leaves[1] <== fp[G];
    for (var k = 0; k < GA; k++) {
        stateHash.leaves[2 + k] <== nextTotal[k];
    }
    stateHash.leaves[GA + 2] <== nextSalt;
    nextState <== stateHash.out;

    fingerprint <== isLast * fp[G];
}
