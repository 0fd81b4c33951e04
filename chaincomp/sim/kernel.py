"""Numba-compiled event loop for the chain-dispatch policies (the fast path).

Same model, rules, tie-breaking and event order as the general engine running
:class:`~chaincomp.sim.policies.ChainDispatchPolicy` (tests/sim/test_kernel_vs_engine.py checks
equality job by job on the same streams). It does not track server slots: with chain capacities
from a valid allocation (Σ_k m_ij c_k ≤ M̃_j, Eq. 3) memory can never run short, so the chain
capacities c_k are the only constraint that binds.

Data structures and cost per event (K chains, C = Σ c_k job servers, n jobs):

- completions: a binary heap keyed (time, insertion counter) holding ≤ C entries (+ stale entries
  superseded by migrations) → O(log C) per push/pop;
- policy choice: a segment tree over the K chains storing each chain's key (JFFC: 0 if free else
  ∞; JSQ: Z_k + Q_k; SED: 1/μ_k + (N_k − c_k + 1)₊/(μ_k c_k); SA-JSQ: Z_k if non-full else ∞),
  min with ties to the lower index; a state change touches one leaf → O(log K); the choice reads
  the root → O(1);
- JIQ: two Fenwick trees (idle chains, non-full chains) to draw the r-th member → O(log K);
- central FIFO queue: a ring buffer; local queues: linked lists → O(1);
- JFFC with migration: a second segment tree finds the slowest busy chain (O(log K)) and a scan of
  its c_l slots finds the job to move (O(c_l)).

So an event costs O(log C + log K) (plus O(c_l) for a migration); memory is O(n + K + C).
"""

from __future__ import annotations

import numba
import numpy as np

INF = np.inf


@numba.njit(cache=True)
def _tree_update(key, pos, P, k, value):  # pragma: no cover - compiled
    """Set leaf k to ``value`` and repair the min (ties: lower index) up to the root."""
    i = P + k
    key[i] = value
    pos[i] = k
    i >>= 1
    while i >= 1:
        l, r = 2 * i, 2 * i + 1
        if key[r] < key[l]:
            key[i] = key[r]
            pos[i] = pos[r]
        else:
            key[i] = key[l]
            pos[i] = pos[l]
        i >>= 1


@numba.njit(cache=True)
def _fen_add(tree, k, delta):  # pragma: no cover - compiled
    i = k + 1
    n = tree.size - 1
    while i <= n:
        tree[i] += delta
        i += i & (-i)


@numba.njit(cache=True)
def _fen_kth(tree, r, LOG):  # pragma: no cover - compiled
    """0-based index of the (r+1)-th member (r ≥ 0) of the set stored as 0/1 counts."""
    pos = 0
    rem = r + 1
    step = LOG
    n = tree.size - 1
    while step > 0:
        nxt = pos + step
        if nxt <= n and tree[nxt] < rem:
            pos = nxt
            rem -= tree[nxt]
        step >>= 1
    return pos  # 1-based pos+1 → 0-based pos


@numba.njit(cache=True)
def _heap_push(ht, hs, hj, hv, size, t, s, j, v):  # pragma: no cover - compiled
    i = size
    ht[i] = t
    hs[i] = s
    hj[i] = j
    hv[i] = v
    while i > 0:
        p = (i - 1) >> 1
        if ht[p] < ht[i] or (ht[p] == ht[i] and hs[p] < hs[i]):
            break
        ht[p], ht[i] = ht[i], ht[p]
        hs[p], hs[i] = hs[i], hs[p]
        hj[p], hj[i] = hj[i], hj[p]
        hv[p], hv[i] = hv[i], hv[p]
        i = p
    return size + 1


@numba.njit(cache=True)
def _heap_pop(ht, hs, hj, hv, size):  # pragma: no cover - compiled
    size -= 1
    ht[0] = ht[size]
    hs[0] = hs[size]
    hj[0] = hj[size]
    hv[0] = hv[size]
    i = 0
    while True:
        l = 2 * i + 1
        if l >= size:
            break
        c = l
        r = l + 1
        if r < size and (ht[r] < ht[l] or (ht[r] == ht[l] and hs[r] < hs[l])):
            c = r
        if ht[i] < ht[c] or (ht[i] == ht[c] and hs[i] < hs[c]):
            break
        ht[c], ht[i] = ht[i], ht[c]
        hs[c], hs[i] = hs[i], hs[c]
        hj[c], hj[i] = hj[i], hj[c]
        hv[c], hv[i] = hv[i], hv[c]
        i = c
    return size


@numba.njit(cache=True)
def _key(policy, k, Z, Q, cap, mu):  # pragma: no cover - compiled
    if policy == 0 or policy == 5:  # JFFC
        return 0.0 if Z[k] < cap[k] else INF
    if policy == 1:  # JSQ
        return float(Z[k] + Q[k])
    if policy == 3:  # SED
        n = Z[k] + Q[k]
        extra = n - cap[k] + 1
        if extra < 0:
            extra = 0
        return 1.0 / mu[k] + extra / (mu[k] * cap[k])
    if policy == 4:  # SA-JSQ
        return float(Z[k]) if Z[k] < cap[k] else INF
    return 0.0


@numba.njit(cache=True)
def _service(size, lin, lout, coef, j, k):  # pragma: no cover - compiled
    """Service time of job j on chain k: size × (c₀ + c₁·l_in + c₂·max(l_out − 1, 0) + c₃·l_out)."""
    d = lout[j] - 1.0
    if d < 0.0:
        d = 0.0
    return size[j] * (coef[k, 0] + coef[k, 1] * lin[j] + coef[k, 2] * d + coef[k, 3] * lout[j])


@numba.njit(cache=True)
def _claim_slot(off, slot_job, job_slot, k, j):  # pragma: no cover - compiled
    """Give job j the first free job-server slot of chain k (migration bookkeeping)."""
    for q in range(off[k], off[k + 1]):
        if slot_job[q] < 0:
            slot_job[q] = j
            job_slot[j] = q
            return


@numba.njit(cache=True, nogil=True)
def chain_dispatch_kernel(policy, arrival, size, lin, lout, u, coef, cap, mu, warmup, stop):  # pragma: no cover - compiled
    """Simulate ``policy`` (code from POLICY_CODES) over n jobs and K chains.

    ``stop`` is a one-element int8 array read every 4096 events: when another thread sets it to 1
    the loop ends early (Ctrl-C; the caller then discards the partial result). The flag never
    changes what is computed, so results stay byte-identical per seed. Runs without the GIL.

    Returns (dispatch_s, completion_s, chain, busy_s per chain, window_start_s, events).
    """
    n = arrival.size
    K = cap.size
    dispatch = np.full(n, np.nan)
    completion = np.full(n, np.nan)
    chain = np.full(n, -1, dtype=np.int64)
    seg_start = np.zeros(n)
    version = np.zeros(n, dtype=np.int64)
    busy = np.zeros(K)
    t0 = arrival[min(warmup, n - 1)] if n > 0 else 0.0
    Z = np.zeros(K, dtype=np.int64)
    Q = np.zeros(K, dtype=np.int64)
    # segment tree for the policy key
    P = 1
    while P < K:
        P *= 2
    key = np.full(2 * P, INF)
    pos = np.zeros(2 * P, dtype=np.int64)
    for k in range(P):
        pos[P + k] = k
    for k in range(K):
        _tree_update(key, pos, P, k, _key(policy, k, Z, Q, cap, mu))
    # slowest busy chain tree (key −k if busy) for migration
    bkey = np.full(2 * P, INF)
    bpos = np.zeros(2 * P, dtype=np.int64)
    # JIQ Fenwick trees
    fen_idle = np.zeros(K + 1, dtype=np.int64)
    fen_free = np.zeros(K + 1, dtype=np.int64)
    LOG = 1
    while LOG * 2 <= K:
        LOG *= 2
    n_idle = 0
    n_free = 0
    if policy == 2:
        for k in range(K):
            if cap[k] > 0:
                _fen_add(fen_idle, k, 1)
                _fen_add(fen_free, k, 1)
                n_idle += 1
                n_free += 1
    # per-chain slots (for migration): flat array, chain k owns [off[k], off[k] + cap[k])
    off = np.zeros(K + 1, dtype=np.int64)
    for k in range(K):
        off[k + 1] = off[k] + cap[k]
    slot_job = np.full(off[K], -1, dtype=np.int64)
    job_slot = np.full(n, -1, dtype=np.int64)
    # queues
    central = np.empty(n, dtype=np.int64)
    c_head = 0
    c_tail = 0
    nxt_local = np.full(n, -1, dtype=np.int64)
    q_head = np.full(K, -1, dtype=np.int64)
    q_tail = np.full(K, -1, dtype=np.int64)
    # completion heap
    cap_heap = n + 16
    ht = np.empty(cap_heap)
    hs = np.empty(cap_heap, dtype=np.int64)
    hj = np.empty(cap_heap, dtype=np.int64)
    hv = np.empty(cap_heap, dtype=np.int64)
    hsize = 0
    seq = 0
    events = 0
    nxt = 0
    done = 0
    now = 0.0
    migrate = policy == 5
    spin = 0
    while done < n:
        spin += 1
        if (spin & 4095) == 0 and stop[0] != 0:
            break
        if hsize > 0 and (nxt >= n or ht[0] <= arrival[nxt]):
            t = ht[0]
            i = hj[0]
            v = hv[0]
            hsize = _heap_pop(ht, hs, hj, hv, hsize)
            if v != version[i]:
                continue
            now = t
            events += 1
            k = chain[i]
            s = seg_start[i]
            if s < t0:
                s = t0
            if completion[i] - s > 0.0:
                busy[k] += completion[i] - s
            done += 1
            Z[k] -= 1
            if migrate:
                slot_job[job_slot[i]] = -1
                if Z[k] == 0:
                    _tree_update(bkey, bpos, P, k, INF)
            if policy == 2:
                if Z[k] == 0:
                    _fen_add(fen_idle, k, 1)
                    n_idle += 1
                if Z[k] == cap[k] - 1:
                    _fen_add(fen_free, k, 1)
                    n_free += 1
            # next job for chain k
            j = -1
            if policy == 1 or policy == 3:
                if q_head[k] >= 0:
                    j = q_head[k]
                    q_head[k] = nxt_local[j]
                    if q_head[k] < 0:
                        q_tail[k] = -1
                    Q[k] -= 1
            elif c_head < c_tail:
                j = central[c_head]
                c_head += 1
            if j >= 0:
                # start j on k
                Z[k] += 1
                dispatch[j] = now
                seg_start[j] = now
                chain[j] = k
                completion[j] = now + _service(size, lin, lout, coef, j, k)
                seq += 1
                hsize = _heap_push(ht, hs, hj, hv, hsize, completion[j], seq, j, version[j])
                if migrate:
                    _claim_slot(off, slot_job, job_slot, k, j)
                    if Z[k] == 1:
                        _tree_update(bkey, bpos, P, k, -float(k))
                if policy == 2:
                    if Z[k] == 1:
                        _fen_add(fen_idle, k, -1)
                        n_idle -= 1
                    if Z[k] == cap[k]:
                        _fen_add(fen_free, k, -1)
                        n_free -= 1
            elif migrate and bkey[1] < INF:
                l = bpos[1]
                if l > k:
                    # the job that started on l most recently (ties: larger index)
                    best = -1
                    for q in range(off[l], off[l + 1]):
                        jj = slot_job[q]
                        if jj >= 0:
                            if best < 0 or seg_start[jj] > seg_start[best] or (
                                seg_start[jj] == seg_start[best] and jj > best
                            ):
                                best = jj
                    jj = best
                    # account the time spent on l
                    s = seg_start[jj]
                    if s < t0:
                        s = t0
                    if now - s > 0.0:
                        busy[l] += now - s
                    s_old = _service(size, lin, lout, coef, jj, l)
                    s_new = _service(size, lin, lout, coef, jj, k)
                    remaining = (completion[jj] - now) / s_old
                    completion[jj] = now + remaining * s_new
                    slot_job[job_slot[jj]] = -1
                    Z[l] -= 1
                    if Z[l] == 0:
                        _tree_update(bkey, bpos, P, l, INF)
                    _tree_update(key, pos, P, l, _key(policy, l, Z, Q, cap, mu))
                    Z[k] += 1
                    _claim_slot(off, slot_job, job_slot, k, jj)
                    if Z[k] == 1:
                        _tree_update(bkey, bpos, P, k, -float(k))
                    chain[jj] = k
                    seg_start[jj] = now
                    version[jj] += 1
                    seq += 1
                    hsize = _heap_push(ht, hs, hj, hv, hsize, completion[jj], seq, jj, version[jj])
            _tree_update(key, pos, P, k, _key(policy, k, Z, Q, cap, mu))
        else:
            i = nxt
            nxt += 1
            now = arrival[i]
            events += 1
            k = -1
            start = False
            if policy == 2:
                if n_idle > 0:
                    r = int(u[i] * n_idle)
                    if r > n_idle - 1:
                        r = n_idle - 1
                    k = _fen_kth(fen_idle, r, LOG)
                    start = True
                elif n_free > 0:
                    r = int(u[i] * n_free)
                    if r > n_free - 1:
                        r = n_free - 1
                    k = _fen_kth(fen_free, r, LOG)
                    start = True
            elif key[1] < INF:
                k = pos[1]
                start = Z[k] < cap[k]
            if start:
                Z[k] += 1
                dispatch[i] = now
                seg_start[i] = now
                chain[i] = k
                completion[i] = now + _service(size, lin, lout, coef, i, k)
                seq += 1
                hsize = _heap_push(ht, hs, hj, hv, hsize, completion[i], seq, i, version[i])
                if migrate:
                    _claim_slot(off, slot_job, job_slot, k, i)
                    if Z[k] == 1:
                        _tree_update(bkey, bpos, P, k, -float(k))
                if policy == 2:
                    if Z[k] == 1:
                        _fen_add(fen_idle, k, -1)
                        n_idle -= 1
                    if Z[k] == cap[k]:
                        _fen_add(fen_free, k, -1)
                        n_free -= 1
                else:
                    _tree_update(key, pos, P, k, _key(policy, k, Z, Q, cap, mu))
            elif k >= 0 and (policy == 1 or policy == 3):
                chain[i] = k
                if q_tail[k] >= 0:
                    nxt_local[q_tail[k]] = i
                else:
                    q_head[k] = i
                q_tail[k] = i
                Q[k] += 1
                _tree_update(key, pos, P, k, _key(policy, k, Z, Q, cap, mu))
            else:
                central[c_tail] = i
                c_tail += 1
    return dispatch, completion, chain, busy, t0, events


def run_kernel(*args):
    """Run :func:`chain_dispatch_kernel` so that Ctrl-C / SIGTERM stops it within milliseconds.

    The kernel runs in a helper thread (it releases the GIL) while the main thread waits in short
    steps, so the signal handler runs at once; it then sets the kernel's stop flag, waits for the
    kernel to notice (≤ 4096 events) and re-raises the KeyboardInterrupt. Same arguments as the
    kernel without ``stop``; same result.
    """
    import threading

    stop = np.zeros(1, dtype=np.int8)
    box: dict = {}

    def target() -> None:
        try:
            box["result"] = chain_dispatch_kernel(*args, stop)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            box["error"] = exc

    if threading.current_thread() is not threading.main_thread():
        return chain_dispatch_kernel(*args, stop)
    worker = threading.Thread(target=target, name="chaincomp-sim-kernel", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.02)
    except BaseException:
        stop[0] = 1
        worker.join(5.0)
        raise
    if "error" in box:
        raise box["error"]
    return box["result"]
