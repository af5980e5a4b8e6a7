pragma circom 2.1.6;

include "gadgets.circom";

/// @title SegmentParams
/// @notice Unpacks and checks the public parameters of one segment batch (docs/SPEC.md,
///         "Packed public inputs"):
///           meta     = segmentId | marginBps << 32 | isFirst << 48 | isLast << 49 | epoch << 50
///           slots[j] = price | cfBps << 96 | asset << 110 | cap << 114 | pooled << 234
///           stress[w] = 16 price factors of 15 bits; factor (k, j) is number k*A + j
///         and derives the per-slot weights of the health rule:
///           collWeight[j] = price_j * cf_j,  liabWeight[j] = price_j * (10000 + marginBps)
/// @param A  asset slots, 1 <= A <= 16
/// @param K  stress scenarios, 1 <= K <= 16
/// @input meta, slots[A], stress[ceil(K*A/16)]  packed public inputs
/// @output segmentId (< 2^32), isFirst, isLast (boolean), collWeight[A] (< 2^110),
///         liabWeight[A] (< 2^113), tag[A] (global asset index + 16 * pooled bit, < 32: the
///         slot's lots are counted against the pooled caps exactly when pooled = 1), cap[A] (< 2^120),
///         factor[K][A] (stressed price in basis points of the price, < 2^15)
/// @limits price in [1, 2^96), cf <= 10000, marginBps < 2^16, epoch < 2^64
/// @cost 114 + 251 * A + 15 * K * A constraints
template SegmentParams(A, K) {
    assert(A >= 1 && A <= 16);
    assert(K >= 1 && K <= 16);
    var W = (K * A + 15) \ 16;
    signal input meta;
    signal input slots[A];
    signal input stress[W];
    signal output segmentId;
    signal output isFirst;
    signal output isLast;
    signal output collWeight[A];
    signal output liabWeight[A];
    signal output tag[A];
    signal output cap[A];
    signal output factor[K][A];

    // meta: 32 + 16 + 1 + 1 + 64 = 114 bits (bits 50..113, the epoch, are bound by the
    // decomposition and used by no other constraint)
    component mb = Unpack(5, [32, 16, 1, 1, 64]);
    mb.in <== meta;
    segmentId <== mb.out[0];
    isFirst <== mb.out[2];
    isLast <== mb.out[3];

    component sw[A];
    signal priceInv[A];
    component cfMax[A];
    for (var j = 0; j < A; j++) {
        sw[j] = Unpack(5, [96, 14, 4, 120, 1]);
        sw[j].in <== slots[j];
        // price >= 1: price has an inverse
        priceInv[j] <-- sw[j].out[0] != 0 ? 1 / sw[j].out[0] : 0;
        sw[j].out[0] * priceInv[j] === 1;
        // cf <= 10000 (cf < 2^14 from the decomposition)
        cfMax[j] = LessThan(14);
        cfMax[j].in[0] <== sw[j].out[1];
        cfMax[j].in[1] <== 10001;
        cfMax[j].out === 1;
        collWeight[j] <== sw[j].out[0] * sw[j].out[1];
        liabWeight[j] <== sw[j].out[0] * (10000 + mb.out[1]);
        tag[j] <== sw[j].out[2] + 16 * sw[j].out[4];
        cap[j] <== sw[j].out[3];
    }

    var F = 16;
    component fw[W];
    for (var w = 0; w < W; w++) {
        var len = K * A - w * F;
        if (len > F) {
            len = F;
        }
        var widths[16];
        for (var i = 0; i < 16; i++) {
            widths[i] = 15;
        }
        fw[w] = Unpack(len, widths);
        fw[w].in <== stress[w];
        for (var i = 0; i < len; i++) {
            var n = w * F + i;
            factor[n \ A][n % A] <== fw[w].out[i];
        }
    }
}

/// @title SegmentResult
/// @notice The outcome of a segment from its per-slot totals: coverage band and health at the
///         published prices, one health bit per stress scenario.
///           coll = sum_j collTotal_j * collWeight_j,  req = sum_j liabTotal_j * liabWeight_j
///           stressed k: sum_j collTotal_j * collWeight_j * factor_kj
///                    >= sum_j liabTotal_j * liabWeight_j * factor_kj
/// @param A, K  asset slots and scenarios
/// @input collTotal[A], liabTotal[A]  < 2^120 (docs/SPEC.md "Bounds": at most 2^24 entries per
///        segment), collWeight < 2^110, liabWeight < 2^113, factor < 2^15
/// @output band (0..4), covered (health bit), stress[K] (health bit per scenario)
/// @cost 2A + K * (2A + 253) + 512 constraints
template SegmentResult(A, K) {
    signal input collTotal[A];
    signal input liabTotal[A];
    signal input collWeight[A];
    signal input liabWeight[A];
    signal input factor[K][A];
    signal output band;
    signal output covered;
    signal output stress[K];

    // coll < 16 * 2^120 * 2^110 = 2^234; req < 16 * 2^120 * 2^113 = 2^237
    signal collValue[A];
    signal liabValue[A];
    var coll = 0;
    var req = 0;
    for (var j = 0; j < A; j++) {
        collValue[j] <== collTotal[j] * collWeight[j];
        liabValue[j] <== liabTotal[j] * liabWeight[j];
        coll += collValue[j];
        req += liabValue[j];
    }
    component cb = CoverageBand();
    cb.coll <== coll;
    cb.req <== req;
    band <== cb.band;
    covered <== cb.covered;

    // stressed: coll_k < 2^234 * 2^15 = 2^249, req_k < 2^237 * 2^15 = 2^252
    signal sc[K][A];
    signal sl[K][A];
    component ge[K];
    for (var k = 0; k < K; k++) {
        var ck = 0;
        var lk = 0;
        for (var j = 0; j < A; j++) {
            sc[k][j] <== collValue[j] * factor[k][j];
            sl[k][j] <== liabValue[j] * factor[k][j];
            ck += sc[k][j];
            lk += sl[k][j];
        }
        ge[k] = SafeGreaterEqThan(252);
        ge[k].a <== ck;
        ge[k].b <== lk;
        stress[k] <== ge[k].out;
    }
}

/// @title SegmentEntries
/// @notice The lots or the liabilities of one batch: leaves, slot totals and their commitment.
///         leaf = H3(id, amount + 2^96 * slot + 2^100 * segmentId, salt), 0 for padding.
/// @param L  entries, 1 <= L <= 1024
/// @param A  asset slots
/// @input segmentId  < 2^32 (from SegmentParams)
/// @input id/slot/amount/salt/active[L]  private entries (active = a prefix)
/// @output commitment  ListCommitment over the leaves
/// @output slotAmount[L][A]  amount of entry i in slot j (0 elsewhere)
/// @output bits[L][A]  one-hot slot of entry i (all 0 for padding)
/// @limits amount < 2^96
/// @cost about 100 + 2A + 264 + 41 constraints per entry
template SegmentEntries(L, A) {
    assert(L >= 1 && L <= 1024);
    var AMOUNT_BITS = 96;
    signal input segmentId;
    signal input id[L];
    signal input slot[L];
    signal input amount[L];
    signal input salt[L];
    signal input active[L];
    signal output commitment;
    signal output slotAmount[L][A];
    signal output bits[L][A];

    component activeBool[L];
    component range[L];
    component sel[L];
    component hash[L];
    signal used[L];
    for (var i = 0; i < L; i++) {
        activeBool[i] = Boolean();
        activeBool[i].in <== active[i];
        if (i > 0) {
            active[i] * (1 - active[i - 1]) === 0;
        }
        // padding carries no amount (it selects no slot anyway: belt and braces)
        (1 - active[i]) * amount[i] === 0;
        range[i] = RangeCheck(AMOUNT_BITS);
        range[i].in <== amount[i];
        sel[i] = SlotSelect(A);
        sel[i].slot <== slot[i];
        sel[i].active <== active[i];
        for (var j = 0; j < A; j++) {
            bits[i][j] <== sel[i].bits[j];
            slotAmount[i][j] <== sel[i].bits[j] * amount[i];
        }
        // amount < 2^96, slot < 16, segmentId < 2^32: the packing decodes uniquely
        hash[i] = Poseidon(3);
        hash[i].inputs[0] <== id[i];
        hash[i].inputs[1] <== amount[i] + (1 << 96) * slot[i] + (1 << 100) * segmentId;
        hash[i].inputs[2] <== salt[i];
        used[i] <== active[i] * hash[i].out;
    }
    component commit = ListCommitment(L);
    for (var i = 0; i < L; i++) {
        commit.leaves[i] <== used[i];
    }
    commitment <== commit.out;
}

/// @title SegmentBatch
/// @notice One batch of one segment's solvency proof (docs/SPEC.md). Proves that:
///   - every active lot and liability leaf is in the public batchRoot =
///     H2(ListCommitment(lot leaves), ListCommitment(liability leaves)) (padding leaves = 0);
///   - per-slot amount totals of collateral and liabilities are carried from prevState to
///     nextState = ListCommitment(collTotal[A], liabTotal[A], fp, salt); the first batch starts
///     from the canonical empty state (prevState = 0, totals 0, fp 1);
///   - collateral totals never exceed the public custody caps (every batch; totals only grow);
///   - fp *= r - (lotId + gamma * amount + gamma^2 * tag) over active lots, gamma = H1(r),
///     tag = the slot's global asset index + 16 * the slot's pooled bit (the lot list totals a
///     lot against the pooled caps exactly when its tag says pooled); padding is inert (no
///     value, factor 1, leaf 0);
///   - on the last batch: result = healthy | stress bits << 1 | band << (1 + K), and
///     fingerprint = fp; otherwise both are 0.
/// @param N  lots per batch (<= 1024)
/// @param M  liabilities per batch (<= 1024)
/// @param A  asset slots per segment (<= 16)
/// @param K  stress scenarios (<= 16)
/// @input r  public fingerprint challenge, derived from the manifest
/// @input prevState  public chained state (0 on the first batch)
/// @input meta, slots[A], stress[ceil(K*A/16)]  packed public parameters (SegmentParams)
/// @input prevColl[A], prevLiab[A], prevFp, prevSalt  private opening of prevState
/// @input nextSalt  private salt of nextState
/// @input lotId/lotSlot/lotAmount/lotSalt/lotActive[N]  private lots (active = prefix)
/// @input liabAccount/liabSlot/liabAmount/liabSalt/liabActive[M]  private liabilities
/// @output nextState, batchRoot, result, fingerprint
/// @limits amount < 2^96; at most 2^24 lots and 2^24 liabilities per segment (the verifier
///         bounds the batch count), so every total stays < 2^120 with no range check
///         (docs/SPEC.md "Bounds")
/// @cost about 440 constraints per lot, 420 per liability, 7,000 per batch (A = 8, K = 4);
///       pinned per profile in test/circuits/circuits.test.ts
template SegmentBatch(N, M, A, K) {
    assert(N >= 1 && N <= 1024);
    assert(M >= 1 && M <= 1024);
    assert(A >= 1 && A <= 16);
    assert(K >= 1 && K <= 16);
    var W = (K * A + 15) \ 16;
    var CAP_BITS = 120;

    signal input r;
    signal input prevState;
    signal input meta;
    signal input slots[A];
    signal input stress[W];

    signal input prevColl[A];
    signal input prevLiab[A];
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
    signal output result;
    signal output fingerprint;

    component sp = SegmentParams(A, K);
    sp.meta <== meta;
    sp.slots <== slots;
    sp.stress <== stress;

    var EMPTY[2 * A + 1];
    for (var i = 0; i < 2 * A; i++) {
        EMPTY[i] = 0;
    }
    EMPTY[2 * A] = 1;
    component start = ChainStart(2 * A + 1, EMPTY);
    start.isFirst <== sp.isFirst;
    start.prevState <== prevState;
    for (var j = 0; j < A; j++) {
        start.values[j] <== prevColl[j];
        start.values[A + j] <== prevLiab[j];
    }
    start.values[2 * A] <== prevFp;
    start.salt <== prevSalt;

    // ---- entries
    component lots = SegmentEntries(N, A);
    lots.segmentId <== sp.segmentId;
    lots.id <== lotId;
    lots.slot <== lotSlot;
    lots.amount <== lotAmount;
    lots.salt <== lotSalt;
    lots.active <== lotActive;

    component liabs = SegmentEntries(M, A);
    liabs.segmentId <== sp.segmentId;
    liabs.id <== liabAccount;
    liabs.slot <== liabSlot;
    liabs.amount <== liabAmount;
    liabs.salt <== liabSalt;
    liabs.active <== liabActive;

    component rootHash = Poseidon(2);
    rootHash.inputs[0] <== lots.commitment;
    rootHash.inputs[1] <== liabs.commitment;
    batchRoot <== rootHash.out;

    // ---- fingerprint over the lot tuples (lotId, amount, tag)
    component ch = Challenges();
    ch.r <== r;
    signal assetTerm[A];
    for (var j = 0; j < A; j++) {
        assetTerm[j] <== ch.gamma2 * sp.tag[j];
    }
    signal amountTerm[N];
    signal assetPick[N][A];
    component factor[N];
    signal fp[N + 1];
    fp[0] <== prevFp;
    for (var i = 0; i < N; i++) {
        amountTerm[i] <== ch.gamma * lotAmount[i];
        var tuple = lotId[i] + amountTerm[i];
        for (var j = 0; j < A; j++) {
            assetPick[i][j] <== lots.bits[i][j] * assetTerm[j];
            tuple += assetPick[i][j];
        }
        factor[i] = TupleFactor();
        factor[i].active <== lotActive[i];
        factor[i].r <== r;
        factor[i].tuple <== tuple;
        fp[i + 1] <== fp[i] * factor[i].factor;
    }

    // ---- per-slot totals; each batch adds < 1024 * 2^96, so after at most 2^24 entries per
    // segment every total is < 2^120 < p (no wrap) without a range check
    signal nextColl[A];
    signal nextLiab[A];
    component capBound[A];
    for (var j = 0; j < A; j++) {
        var c = prevColl[j];
        for (var i = 0; i < N; i++) {
            c += lots.slotAmount[i][j];
        }
        var l = prevLiab[j];
        for (var i = 0; i < M; i++) {
            l += liabs.slotAmount[i][j];
        }
        nextColl[j] <== c;
        nextLiab[j] <== l;
        capBound[j] = CapBound(CAP_BITS);
        capBound[j].total <== nextColl[j];
        capBound[j].cap <== sp.cap[j];
    }

    component stateHash = ListCommitment(2 * A + 2);
    for (var j = 0; j < A; j++) {
        stateHash.leaves[j] <== nextColl[j];
        stateHash.leaves[A + j] <== nextLiab[j];
    }
    stateHash.leaves[2 * A] <== fp[N];
    stateHash.leaves[2 * A + 1] <== nextSalt;
    nextState <== stateHash.out;

    // ---- outcome (computed on every batch, published on the last)
    component res = SegmentResult(A, K);
    res.collTotal <== nextColl;
    res.liabTotal <== nextLiab;
    res.collWeight <== sp.collWeight;
    res.liabWeight <== sp.liabWeight;
    res.factor <== sp.factor;
    var packed = res.covered + (1 << (1 + K)) * res.band;
    for (var k = 0; k < K; k++) {
        packed += (1 << (1 + k)) * res.stress[k];
    }
    result <== sp.isLast * packed;
    fingerprint <== sp.isLast * fp[N];
}
