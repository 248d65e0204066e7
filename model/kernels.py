"""Compiled weekly kernels: each mechanism's per-slot update as one fused loop, bit-identical to the numpy code.

The mechanisms' numpy code is the readable reference; these kernels compute the same numbers in one
pass over the slots instead of a few dozen whole-array numpy calls, which is where a small
organisation's week went (call overhead, not arithmetic). Every kernel is a pure function: arrays and
scalars in, arrays written in place or returned. Random draws come from the mechanism's own numpy stream in
the same order as the reference: most kernels are given the draws; `people_week` and `workload_week` draw
themselves through a stream table (`_stream`), numba's implementations of numpy's distributions on numpy's
own bit generator, which are numpy's draws to the bit; runs of uniforms and of standard normals from numpy's PCG64 are
stepped in the kernel itself (`_uniforms`, `_normals`: the same integer arithmetic, so the same doubles and the same
final state).

Bit-identity with the reference holds because each kernel performs the same IEEE operations in the
same order: elementwise expressions are written out with the reference's parenthesisation; `exp`,
`expm1` and `pow` call the same C library functions numpy calls on this platform; sums over a subset
replicate numpy's pairwise summation (`_pairwise`), weighted counts replicate `np.bincount`
(sequential in slot order), and the sparse products replicate scipy's CSR loops (sequential per
row). `tests/test_kernels.py` checks every kernel against the numpy reference on random inputs, and
the whole model on several scenarios and seeds.

Compiled code is cached on disk (`cache=True`), so only the first run on a machine compiles;
`culturedrift.model.warm_up()` loads (or compiles) them once per process, e.g. once per sweep worker.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

import llvmlite.binding as ll
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.extending import intrinsic, models, register_model
from numba.np.random._constants import fi_double, ki_double, wi_double, ziggurat_nor_inv_r, ziggurat_nor_r
from numba.np.random.distributions import random_poisson_mult, random_standard_gamma, random_standard_normal
from numba.np.random.generator_core import next_double

# --------------------------------------------------------------------------------------------- helpers


@njit(cache=True)
def _max(a: float, b: float) -> float:
    """np.maximum's choice for non-NaN inputs (the first argument on ties)."""
    return a if a >= b else b


@njit(cache=True)
def _min(a: float, b: float) -> float:
    """np.minimum's choice for non-NaN inputs (the first argument on ties)."""
    return a if a <= b else b


@njit(cache=True)
def _clip(x: float, lo: float, hi: float) -> float:
    """np.clip's choice for non-NaN inputs."""
    t = x if x > lo else lo
    return t if t < hi else hi


@njit(cache=True)
def _scalar_power(x: float, e: float) -> float:
    """`array ** e` as numpy computes it: exact fast paths for e in {0.5, 1, 2}, else the C library's pow."""
    if e == 2.0:
        return x * x
    if e == 1.0:
        return x
    if e == 0.5:
        return math.sqrt(x)
    return x**e


def _glibc_exp() -> int:
    """The address of glibc's `__exp_finite` (0 if there is none): the exp that libm's `exp` wrappers call and whose
    value they return unchanged (they only set errno, or apply SVID's rules, on overflow and underflow, where they
    return the same value under the POSIX rules in force)."""
    try:
        dlvsym = ctypes.CDLL(None).dlvsym
        dlvsym.restype, dlvsym.argtypes = ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
        return dlvsym(ctypes.CDLL("libm.so.6")._handle, b"__exp_finite", b"GLIBC_2.15") or 0
    except (OSError, AttributeError, TypeError):  # no libm.so.6, no dlvsym (not glibc), no process handle
        return 0


_EXP_SYMBOL = "culturedrift_exp"
_EXP_ADDRESS = _glibc_exp()
if _EXP_ADDRESS:
    ll.add_symbol(_EXP_SYMBOL, _EXP_ADDRESS)


@intrinsic
def _exp(typingctx: Any, x: Any) -> Any:
    """math.exp(x), bit for bit, called straight: numba's exp goes through a jump in its helper library and libm's
    errno wrapper to glibc's `__exp_finite` (`_glibc_exp`), which is called here directly (a third of an exp's
    time). Without glibc's symbol, numba's own math.exp."""
    if x != types.float64:
        return None
    sig = types.float64(types.float64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        if not _EXP_ADDRESS:
            return context.get_function(math.exp, signature)(builder, args)
        fnty = ir.FunctionType(ir.DoubleType(), [ir.DoubleType()])
        return builder.call(cgutils.get_or_insert_function(builder.module, fnty, _EXP_SYMBOL), args)

    return sig, codegen


# ---------------------------------------------------------------------------------------------- lanes


class _Pair(types.Type):
    """Two float64 sums kept side by side in one SSE register (an LLVM <2 x double>), for a loop whose two sums each
    add one element per step: one multiply and one add serve both, and both chains advance together."""

    def __init__(self) -> None:
        super().__init__(name="Pair")


_PAIR = _Pair()
_PAIR_IR = ir.VectorType(ir.DoubleType(), 2)


@register_model(_Pair)
class _PairModel(models.PrimitiveModel):
    """A `_Pair` is its LLVM vector itself (lives in a register, no memory)."""

    def __init__(self, dmm: Any, fe_type: Any) -> None:
        super().__init__(dmm, fe_type, _PAIR_IR)


@intrinsic
def _pair_zero(typingctx: Any) -> Any:
    """Two sums starting at +0.0 (as `s = 0.0`)."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return ir.Constant(_PAIR_IR, [0.0, 0.0])

    return _PAIR(), codegen


@intrinsic
def _pair_row(typingctx: Any, table: Any, row: Any) -> Any:
    """Row `row` of a C-contiguous (n, 2) float64 array, both columns in one load."""
    if not (isinstance(table, types.Array) and table.dtype == types.float64 and table.ndim == 2
            and table.layout == "C" and isinstance(row, types.Integer)):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        i = context.cast(builder, args[1], signature.args[1], types.intp)
        at = cgutils.get_item_pointer(context, builder, aryty, ary, [i, context.get_constant(types.intp, 0)])
        return builder.load(builder.bitcast(at, _PAIR_IR.as_pointer()), align=8)

    return _PAIR(table, row), codegen


@intrinsic
def _pair_add_scaled(typingctx: Any, acc: Any, v: Any, x: Any) -> Any:
    """`acc + v * x` in each lane: an IEEE multiply, then an IEEE add (no fused multiply-add, no fast-math flags),
    so each lane holds the bits the scalar `s += x * v` would."""
    if not (acc is _PAIR and v is _PAIR and isinstance(x, types.Float)):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        acc, v, x = args
        xx = context.cast(builder, x, signature.args[2], types.float64)
        both = builder.insert_element(ir.Constant(_PAIR_IR, ir.Undefined), xx, ir.Constant(ir.IntType(32), 0))
        both = builder.shuffle_vector(both, ir.Constant(_PAIR_IR, ir.Undefined),
                                      ir.Constant(ir.VectorType(ir.IntType(32), 2), [0, 0]))
        return builder.fadd(acc, builder.fmul(v, both))

    return _PAIR(acc, v, x), codegen


@intrinsic
def _pair_lane(typingctx: Any, acc: Any, k: Any) -> Any:
    """Sum `k` (0 or 1) of a pair."""
    if not (acc is _PAIR and isinstance(k, types.Integer)):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.extract_element(args[0], args[1])

    return types.float64(acc, k), codegen


# ------------------------------------------------------------------------------------------ random streams

_BIT_GENERATOR = types.NumPyRandomBitGeneratorType("bit_generator")


@intrinsic
def _stream(typingctx: Any, table: Any, row: Any) -> Any:
    """Row `row` of a stream table (`compiled.stream_table`: a bit generator's state address and its next_double,
    next_uint64 and next_uint32 functions) as the bit generator numba's numpy `Generator` methods draw from.

    numba's own unboxing of a `Generator` argument reads these four addresses through Python attributes and ctypes
    casts on every call (about 7 µs, more than a small organisation's whole turnover kernel); read from a table
    made once, they cost nothing. The draws are numba's implementations of numpy's distributions on numpy's own
    bit generator, so they are numpy's draws and leave the stream where numpy would."""
    if not (isinstance(table, types.Array) and table.dtype == types.uint64 and table.ndim == 2
            and isinstance(row, types.Integer)):
        return None
    sig = _BIT_GENERATOR(table, row)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        i = context.cast(builder, args[1], signature.args[1], types.intp)

        def column(k: int) -> Any:
            at = [i, context.get_constant(types.intp, k)]
            return builder.load(cgutils.get_item_pointer(context, builder, aryty, ary, at))

        bg = cgutils.create_struct_proxy(_BIT_GENERATOR)(context, builder)
        bg.parent = cgutils.get_null_value(context.get_value_type(types.pyobject))
        bg.state_address = column(0)
        bg.state = column(0)
        bg.bit_generator = column(0)
        bg.fnptr_next_double = column(1)
        bg.fnptr_next_uint64 = column(2)
        bg.fnptr_next_uint32 = column(3)
        return bg._getvalue()

    return sig, codegen


@intrinsic
def _mulhi(typingctx: Any, a: Any, b: Any) -> Any:
    """The high 64 bits of the 128-bit product of two unsigned 64-bit numbers (one `mul` on x86-64)."""
    if not (a == types.uint64 and b == types.uint64):
        return None
    sig = types.uint64(types.uint64, types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        wide = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        return builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))

    return sig, codegen


@intrinsic
def _word(typingctx: Any, address: Any, k: Any) -> Any:
    """The unsigned 64-bit word `k` words after `address`."""
    if not (address == types.uint64 and isinstance(k, types.Integer)):
        return None
    sig = types.uint64(address, k)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        at = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
        return builder.load(builder.gep(at, [context.cast(builder, args[1], signature.args[1], types.intp)]))

    return sig, codegen


@intrinsic
def _set_word(typingctx: Any, address: Any, k: Any, value: Any) -> Any:
    """Writes the unsigned 64-bit word `k` words after `address`."""
    if not (address == types.uint64 and isinstance(k, types.Integer) and value == types.uint64):
        return None
    sig = types.void(address, k, value)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        at = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
        builder.store(args[2], builder.gep(at, [context.cast(builder, args[1], signature.args[1], types.intp)]))
        return context.get_dummy_value()

    return sig, codegen


# PCG64's multiplier (numpy/random/src/pcg64/pcg64.h: PCG_DEFAULT_MULTIPLIER_HIGH, _LOW)
_PCG_HI, _PCG_LO = np.uint64(2549297995355413924), np.uint64(4865540595714422341)
_U0, _U1 = np.uint64(0), np.uint64(1)


@njit(cache=True)
def _pcg_step(hi: Any, lo: Any, mhi: Any, mlo: Any, chi: Any, clo: Any) -> tuple[Any, Any]:
    """(hi, lo) * (mhi, mlo) + (chi, clo) modulo 2^128, in 64-bit halves: one step of PCG64's congruential state (or
    several at once, with the multiplier and increment of that many steps)."""
    plo = lo * mlo
    phi = _mulhi(lo, mlo) + lo * mhi + hi * mlo
    slo = plo + clo
    return phi + chi + (_U1 if slo < plo else _U0), slo


@njit(cache=True)
def _pcg_double(hi: Any, lo: Any) -> float:
    """PCG64's output for a state (XSL-RR: the halves xor-ed, rotated by the top six bits) as numpy's double: its top
    53 bits times 2^-53 (exact in an int64, so the conversion is a signed one)."""
    x = hi ^ lo
    rot = hi >> np.uint64(58)
    v = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
    return float(np.int64(v >> np.uint64(11))) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def _four_lanes(hi: Any, lo: Any, chi: Any, clo: Any) -> tuple[Any, ...]:
    """The first four states of PCG64 after (hi, lo) and the jump of four steps at once (multiplier M^4, increment
    c (M^3 + M^2 + M + 1)), so four interleaved lanes step the same states in the same order as one step after
    another (`_uniforms`, `_pcg_fill`)."""
    h1, l1 = _pcg_step(hi, lo, _PCG_HI, _PCG_LO, chi, clo)
    h2, l2 = _pcg_step(h1, l1, _PCG_HI, _PCG_LO, chi, clo)
    h3, l3 = _pcg_step(h2, l2, _PCG_HI, _PCG_LO, chi, clo)
    h4, l4 = _pcg_step(h3, l3, _PCG_HI, _PCG_LO, chi, clo)
    m2h, m2l = _pcg_step(_PCG_HI, _PCG_LO, _PCG_HI, _PCG_LO, _U0, _U0)
    m3h, m3l = _pcg_step(m2h, m2l, _PCG_HI, _PCG_LO, _U0, _U0)
    ah, al = _pcg_step(m2h, m2l, m2h, m2l, _U0, _U0)
    sh, sl = _pcg_step(m3h, m3l, _U0, _U1, m2h, m2l)
    sh, sl = _pcg_step(sh, sl, _U0, _U1, _PCG_HI, _PCG_LO)
    sh, sl = _pcg_step(sh, sl, _U0, _U1, _U0, _U1)
    ch, cl = _pcg_step(chi, clo, sh, sl, _U0, _U0)
    return h1, l1, h2, l2, h3, l3, h4, l4, ah, al, ch, cl


@njit(cache=True)
def _pcg_found(streams: np.ndarray, row: int) -> bool:
    """Whether row `row` of the stream table is numpy's PCG64 with its state found at its address (column 4 is 1,
    `compiled.stream_table`); a table of four columns does not say, and its generator is drawn through numba."""
    return streams.shape[1] >= 5 and streams[row, 4] == _U1


@njit(cache=True)
def _uniforms(streams: np.ndarray, row: int, out: np.ndarray) -> None:
    """`out.size` uniforms from row `row` of the stream table, numpy's `random()` to the bit, the stream left where
    numpy leaves it. For numpy's PCG64 whose state the table found at its address (column 4 is 1:
    `compiled.stream_table`), the congruential steps are made here in four interleaved lanes, each jumping four steps
    at once (multiplier M^4, increment c (M^3 + M^2 + M + 1)): the same states in the same order as one step after
    another, with no call per draw and no wait on the previous step; any other generator through its next_double."""
    n = out.size
    if not _pcg_found(streams, row):
        g = _stream(streams, row)
        for i in range(n):
            out[i] = next_double(g)
        return
    at = _word(streams[row, 0], 0)  # numpy's pcg64_state begins with the address of {state, inc}, low words first
    lo, hi, clo, chi = _word(at, 0), _word(at, 1), _word(at, 2), _word(at, 3)
    h1, l1, h2, l2, h3, l3, h4, l4, ah, al, ch, cl = _four_lanes(hi, lo, chi, clo)
    b = 0
    while b + 4 <= n:
        out[b] = _pcg_double(h1, l1)
        out[b + 1] = _pcg_double(h2, l2)
        out[b + 2] = _pcg_double(h3, l3)
        out[b + 3] = _pcg_double(h4, l4)
        hi, lo = h4, l4
        h1, l1 = _pcg_step(h1, l1, ah, al, ch, cl)
        h2, l2 = _pcg_step(h2, l2, ah, al, ch, cl)
        h3, l3 = _pcg_step(h3, l3, ah, al, ch, cl)
        h4, l4 = _pcg_step(h4, l4, ah, al, ch, cl)
        b += 4
    if b < n:
        out[b] = _pcg_double(h1, l1)
        hi, lo = h1, l1
    if b + 1 < n:
        out[b + 1] = _pcg_double(h2, l2)
        hi, lo = h2, l2
    if b + 2 < n:
        out[b + 2] = _pcg_double(h3, l3)
        hi, lo = h3, l3
    _set_word(at, 0, lo)
    _set_word(at, 1, hi)


_JUMPS = 64  # the longest jump `_uniforms_at` makes in one step


@njit(cache=True)
def _pcg_power(hi: Any, lo: Any, chi: Any, clo: Any, d: int) -> tuple[Any, Any, Any, Any]:
    """The multiplier and increment of `d` steps of PCG64 at once (M^d; c (M^(d-1) + ... + M + 1)), by squaring:
    PCG's own advance (numpy's `advance`), exact integer arithmetic modulo 2^128."""
    am_h, am_l, ac_h, ac_l = _U0, _U1, _U0, _U0
    cm_h, cm_l, cc_h, cc_l = hi, lo, chi, clo
    while d > 0:
        if d & 1:
            am_h, am_l = _pcg_step(am_h, am_l, cm_h, cm_l, _U0, _U0)
            ac_h, ac_l = _pcg_step(ac_h, ac_l, cm_h, cm_l, cc_h, cc_l)
        p1_l = cm_l + _U1
        p1_h = cm_h + (_U1 if p1_l == _U0 else _U0)
        cc_h, cc_l = _pcg_step(cc_h, cc_l, p1_h, p1_l, _U0, _U0)
        cm_h, cm_l = _pcg_step(cm_h, cm_l, cm_h, cm_l, _U0, _U0)
        d >>= 1
    return am_h, am_l, ac_h, ac_l


@njit(cache=True)
def _uniforms_at(streams: np.ndarray, row: int, at: np.ndarray, first: np.ndarray, second: np.ndarray) -> None:
    """Two runs of `first.size` uniforms from row `row` of the stream table, one after the other (`_uniforms` into
    `first`, then into `second`), of which only those at the places `at` (increasing, each once) are wanted: the
    other places are left as they are, and the stream is left where the two runs leave it. For numpy's PCG64 whose
    state the table found, each run's state jumps from one wanted place to the next (the multiplier and increment
    of up to `_JUMPS` steps at once, from a table made here; PCG's advance for the second run's start and the
    end): the same states, so the same doubles, without stepping through the places not wanted."""
    n = first.size
    if not _pcg_found(streams, row):
        _uniforms(streams, row, first)
        _uniforms(streams, row, second)
        return
    address = _word(streams[row, 0], 0)
    lo, hi, clo, chi = _word(address, 0), _word(address, 1), _word(address, 2), _word(address, 3)
    mh = np.empty(_JUMPS + 1, np.uint64)
    ml = np.empty(_JUMPS + 1, np.uint64)
    ch = np.empty(_JUMPS + 1, np.uint64)
    cl = np.empty(_JUMPS + 1, np.uint64)
    mh[0], ml[0], ch[0], cl[0] = _U0, _U1, _U0, _U0
    for d in range(1, _JUMPS + 1):
        mh[d], ml[d] = _pcg_step(mh[d - 1], ml[d - 1], _PCG_HI, _PCG_LO, _U0, _U0)
        ch[d], cl[d] = _pcg_step(ch[d - 1], cl[d - 1], _PCG_HI, _PCG_LO, chi, clo)
    nh, nl, nch, ncl = _pcg_power(_PCG_HI, _PCG_LO, chi, clo, n)
    ah, al = hi, lo  # the first run's state before its place 0
    bh, bl = _pcg_step(hi, lo, nh, nl, nch, ncl)  # the second's: n steps on
    last = -1
    for k in range(at.size):
        i = at[k]
        gap = i - last
        while gap > _JUMPS:
            ah, al = _pcg_step(ah, al, mh[_JUMPS], ml[_JUMPS], ch[_JUMPS], cl[_JUMPS])
            bh, bl = _pcg_step(bh, bl, mh[_JUMPS], ml[_JUMPS], ch[_JUMPS], cl[_JUMPS])
            gap -= _JUMPS
        ah, al = _pcg_step(ah, al, mh[gap], ml[gap], ch[gap], cl[gap])
        bh, bl = _pcg_step(bh, bl, mh[gap], ml[gap], ch[gap], cl[gap])
        first[i] = _pcg_double(ah, al)
        second[i] = _pcg_double(bh, bl)
        last = i
    rh, rl, rch, rcl = _pcg_power(_PCG_HI, _PCG_LO, chi, clo, n - 1 - last)
    bh, bl = _pcg_step(bh, bl, rh, rl, rch, rcl)
    _set_word(address, 0, bl)
    _set_word(address, 1, bh)


@njit(cache=True)
def _item(a: np.ndarray, at: np.ndarray | None, i: int) -> float:
    """a[i] of a contiguous range (`at` None: numba compiles that case without the test), or a[at[i]] when the sum
    gathers its values through a list of slots."""
    if at is None:
        return a[i]
    return a[at[i]]


@njit(cache=True)
def _block(a: np.ndarray, at: np.ndarray | None, lo: int, n: int) -> float:
    """numpy's pairwise-summation leaf: sequential below 8 items, else 8 interleaved accumulators."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += _item(a, at, i)
        return res
    r0, r1, r2, r3 = _item(a, at, lo), _item(a, at, lo + 1), _item(a, at, lo + 2), _item(a, at, lo + 3)
    r4, r5, r6, r7 = _item(a, at, lo + 4), _item(a, at, lo + 5), _item(a, at, lo + 6), _item(a, at, lo + 7)
    i = 8
    m = n - n % 8
    while i < m:
        j = lo + i
        r0 += _item(a, at, j)
        r1 += _item(a, at, j + 1)
        r2 += _item(a, at, j + 2)
        r3 += _item(a, at, j + 3)
        r4 += _item(a, at, j + 4)
        r5 += _item(a, at, j + 5)
        r6 += _item(a, at, j + 6)
        r7 += _item(a, at, j + 7)
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += _item(a, at, lo + i)
        i += 1
    return res


@njit(cache=True)
def _tree(a: np.ndarray, at: np.ndarray | None, lo: int, n: int) -> float:
    """numpy's pairwise summation of a[lo:lo+n] (or, `at` given, of a[at[lo]], ..., a[at[lo+n-1]]), to its bits.

    numpy halves a range (at a multiple of 8) until it has at most 128 items and adds left + right;
    this walks the same tree with an explicit stack (cached compiled code must not recurse).
    """
    if n <= 128:
        return _block(a, at, lo, n)
    st_lo = np.empty(128, np.int64)
    st_n = np.empty(128, np.int64)
    st_open = np.zeros(128, np.bool_)
    results = np.empty(128)
    sp = 0
    rp = 0
    st_lo[0], st_n[0], st_open[0] = lo, n, False
    while sp >= 0:
        m = st_n[sp]
        if m <= 128:
            results[rp] = _block(a, at, st_lo[sp], m)
            rp += 1
            sp -= 1
        elif st_open[sp]:  # both halves done: combine left + right
            rp -= 1
            results[rp - 1] = results[rp - 1] + results[rp]
            sp -= 1
        else:
            n2 = m // 2
            n2 -= n2 % 8
            l0 = st_lo[sp]
            st_open[sp] = True
            st_lo[sp + 1], st_n[sp + 1], st_open[sp + 1] = l0 + n2, m - n2, False  # right, done second
            st_lo[sp + 2], st_n[sp + 2], st_open[sp + 2] = l0, n2, False  # left, done first
            sp += 2
    return results[0]


@njit(cache=True)
def _pairwise(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise summation of a[lo:lo+n] (`_tree` over a contiguous range)."""
    return _tree(a, None, lo, n)


@njit(cache=True)
def array_sum(a: np.ndarray) -> float:
    """`a.sum()` of a contiguous float64 array, bit for bit (numpy starts from 0 and sums pairwise)."""
    return 0.0 + _pairwise(a, 0, a.size)


@njit(cache=True)
def _approach_by(x: float, total: float, pull: float, step: float) -> float:
    """One week of exponential approach given the summed rates and rate-weighted targets (numerics.approach), with
    its step 1 - exp(-total) given: callers reuse a step while slots share a total, the same number without another
    expm1."""
    target = pull / total if total > 0.0 else x
    return x + step * (target - x)


@njit(cache=True)
def reset_rows(rows: np.ndarray, neutral: np.ndarray) -> None:
    """Each effect row back to its channel's neutral value (Host.reset_effects, every week): numpy's broadcast
    assignment of a column costs more in its own checks than a small organisation's whole fill."""
    for k in range(rows.shape[0]):
        v = neutral[k]
        row = rows[k]
        for i in range(row.size):
            row[i] = v


@njit(cache=True)
def masked_effect(arr: np.ndarray, whom: np.ndarray, amount: float, multiply: bool, capped: bool,
                  cap: float) -> None:
    """Host.add_effect on a mask: add (or multiply by) `amount` where `whom`, capped as np.minimum would."""
    for i in range(arr.size):
        if whom[i]:
            if multiply:
                arr[i] *= amount
            elif capped:
                arr[i] = _min(arr[i] + amount, cap)
            else:
                arr[i] += amount


@njit(cache=True)
def role_bits(staff: np.ndarray, frontline: np.ndarray, manager: np.ndarray, partner: np.ndarray) -> np.ndarray:
    """The groups each slot's post puts it in whoever holds it (all, staff, frontline, managers, partners: the bits
    of their codes in `GROUP_CODES`), worked out once per host (`compiled.role_bits`)."""
    out = np.empty(staff.size, np.int64)
    for i in range(staff.size):
        out[i] = 1 | (2 if staff[i] else 0) | (4 if frontline[i] else 0) | (8 if manager[i] else 0) | \
            (16 if partner[i] else 0)
    return out


_HOLDER_BITS = 32 | 64  # the bits `group_bits` adds to a post's: new hires, agency workers (GROUP_CODES 5 and 6)


@njit(cache=True)
def group_bits(roles: np.ndarray, agency_worker: np.ndarray, tenure: np.ndarray, new_hire_weeks: float) -> np.ndarray:
    """The groups each slot is in (groups.group_slots), one bit per group at its code in `GROUP_CODES`: its post's
    (`role_bits`), new hires (staff within `new_hire_weeks`) and agency workers. Worked out for every slot in one
    loop: a compiled helper called slot by slot, with its arrays, cost more than the rest of a week's delivery."""
    out = np.empty(roles.size, np.int64)
    for i in range(roles.size):
        bits = roles[i]
        if bits & 2 and tenure[i] < new_hire_weeks:
            bits |= 32
        if agency_worker[i]:
            bits |= 64
        out[i] = bits
    return out


@njit(cache=True)
def _reach(roles: np.ndarray, filled: np.ndarray, agency_worker: np.ndarray, tenure: np.ndarray,
           new_hire_weeks: float, holders: bool) -> np.ndarray:
    """The groups each slot's holder is in (`group_bits`'s bits; none for a vacant slot: interventions reach people
    in post), one byte a slot and without a branch per slot (vacancies, agency workers and new hires are scattered
    over the slots); `holders` False: the post's groups only, when no entry reaches new hires or agency workers."""
    out = np.empty(roles.size, np.uint8)
    if holders:
        for i in range(roles.size):
            bits = roles[i]
            new = (bits >> 1) & np.int64(tenure[i] < new_hire_weeks)  # staff (bit 2) within their first weeks
            bits |= (new << 5) | (np.int64(agency_worker[i]) << 6)
            out[i] = np.uint8(bits * np.int64(filled[i]))
    else:
        for i in range(roles.size):
            out[i] = np.uint8(roles[i] * np.int64(filled[i]))
    return out


@njit(cache=True)
def deliver(rows: np.ndarray, ops: np.ndarray, caps: np.ndarray, entries: np.ndarray, filled: np.ndarray,
            roles: np.ndarray, agency_worker: np.ndarray, tenure: np.ndarray, new_hire_weeks: float) -> None:
    """A week's interventions on the per-person effect channels in one pass (Host.add_effect on each group, in
    order): `entries` holds (channel row, group code, amount) triples; each reaches the group's people in post and
    combines as its channel declares (`ops`: 0 add, 1 multiply, 2 add capped at `caps`), in the entries' order, so
    each element takes the same operations in the same order as one add_effect after another.

    Entries on different rows touch different elements, so each row's entries are applied together, two per pass
    over the row (in their order), rather than one pass per entry: a week of three interventions had eight entries
    on five rows."""
    m = entries.size // 3
    holders = False  # whether an entry reaches a group of holders (new hires, agency workers)
    for t in range(m):
        holders |= ((1 << int(entries[3 * t + 1])) & _HOLDER_BITS) != 0
    reach = _reach(roles, filled, agency_worker, tenure, new_hire_weeks, holders)
    done = np.zeros(m, np.bool_)
    mine = np.empty(m, np.int64)
    for t in range(m):
        if done[t]:
            continue
        r = int(entries[3 * t])
        k = 0  # this row's entries, in order
        for u in range(t, m):
            if not done[u] and int(entries[3 * u]) == r:
                done[u] = True
                mine[k] = u
                k += 1
        row = rows[r]
        op = ops[r]
        cap = caps[r]
        for j in range(0, k, 2):
            u = mine[j]
            bit = 1 << int(entries[3 * u + 1])
            amount = entries[3 * u + 2]
            # every element is written, those outside the group with their own value: a loop without branches (one
            # per kind of combining, so none is decided element by element)
            if j + 1 < k:
                v = mine[j + 1]
                bit2 = 1 << int(entries[3 * v + 1])
                amount2 = entries[3 * v + 2]
                if op == 1:
                    for i in range(row.size):
                        x = row[i]
                        x = x * amount if reach[i] & bit else x
                        row[i] = x * amount2 if reach[i] & bit2 else x
                elif op == 2:
                    for i in range(row.size):
                        x = row[i]
                        x = _min(x + amount, cap) if reach[i] & bit else x
                        row[i] = _min(x + amount2, cap) if reach[i] & bit2 else x
                else:
                    for i in range(row.size):
                        x = row[i]
                        x = x + amount if reach[i] & bit else x
                        row[i] = x + amount2 if reach[i] & bit2 else x
            elif op == 1:
                for i in range(row.size):
                    x = row[i]
                    row[i] = x * amount if reach[i] & bit else x
            elif op == 2:
                for i in range(row.size):
                    x = row[i]
                    row[i] = _min(x + amount, cap) if reach[i] & bit else x
            else:
                for i in range(row.size):
                    x = row[i]
                    row[i] = x + amount if reach[i] & bit else x


# ---------------------------------------------------------------------------------------- network


@njit(cache=True)
def neighbour_sums(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, morale: np.ndarray,
                   habit: np.ndarray, out: np.ndarray) -> None:
    """Tie-weighted sums of morale, habit and tie strength per row: scipy's CSR product with [m, c, 1]."""
    for i in range(indptr.size - 1):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        for jj in range(indptr[i], indptr[i + 1]):
            j = indices[jj]
            a = data[jj]
            s0 += a * morale[j]
            s1 += a * habit[j]
            s2 += a * 1.0
        out[i, 0] = s0
        out[i, 1] = s1
        out[i, 2] = s2


@njit(cache=True)
def row_sums(indptr: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Total tie strength per row (scipy's `mat @ ones`)."""
    n = indptr.size - 1
    out = np.empty(n)
    for i in range(n):
        s = 0.0
        for jj in range(indptr[i], indptr[i + 1]):
            s += data[jj] * 1.0
        out[i] = s
    return out


@njit(cache=True)
def strength_by_kind(w: np.ndarray, kind: np.ndarray, n_kinds: int) -> np.ndarray:
    """Total tie strength per kind, summed in entry order (as `np.bincount(kind, weights=w)`)."""
    out = np.zeros(n_kinds)
    for e in range(w.size):
        out[kind[e]] += w[e]
    return out


@njit(cache=True)
def leaver_exposure(indptr: np.ndarray, indices: np.ndarray, w: np.ndarray, rowsum: np.ndarray,
                    slots: np.ndarray, exposure: np.ndarray) -> None:
    """Each colleague of a leaver feels the loss by the tie's share of their ties (np.add.at, in entry order)."""
    for slot in slots:
        for e in range(indptr[slot], indptr[slot + 1]):
            j = indices[e]
            exposure[j] += w[e] / _max(rowsum[j], 1e-9)


@njit(cache=True)
def turnover_leave(indptr: np.ndarray, indices: np.ndarray, w: np.ndarray, rowsum: np.ndarray, slots: np.ndarray,
                   exposure: np.ndarray, agency_worker: np.ndarray, staff: np.ndarray, vacant_since: np.ndarray,
                   week: float) -> int:
    """Turnover.on_leave: colleagues' exposure (`leaver_exposure`), and each permanent leaver's post starts its
    vacancy this week; returns the number of permanent leavers."""
    leaver_exposure(indptr, indices, w, rowsum, slots, exposure)
    k = 0
    for slot in slots:
        if staff[slot] and not agency_worker[slot]:
            vacant_since[slot] = week
            k += 1
    return k


@njit(cache=True)
def twin(indptr: np.ndarray, indices: np.ndarray, i: int, j: int) -> int:
    """The entry storing tie j->i (the twin of i->j): a binary search of row j, whose columns are sorted."""
    lo, hi = indptr[j], indptr[j + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if indices[mid] < i:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def mirror_entries(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """The twin of every stored entry (for the numpy reference path's vectorised edits)."""
    out = np.empty(indices.size, np.int64)
    for i in range(indptr.size - 1):
        for e in range(indptr[i], indptr[i + 1]):
            out[e] = twin(indptr, indices, i, indices[e])
    return out


@njit(cache=True)
def twin_offsets(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Each stored entry's twin (`twin`) as its place within the other end's row, one byte an entry: for rows of at
    most 255 entries (the caller checks), whose twins a week's joins and leaves then find without a search."""
    out = np.empty(indices.size, np.uint8)
    for i in range(indptr.size - 1):
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            out[e] = twin(indptr, indices, i, j) - indptr[j]
    return out


@njit(cache=True)
def _cut_ties(indptr: np.ndarray, indices: np.ndarray, twins: np.ndarray, w: np.ndarray, slots: np.ndarray) -> None:
    """Leavers' ties vanish, both stored directions: each twin from the table of `twin_offsets` if there is one (not
    empty), else by `twin`."""
    tabled = twins.size > 0
    for slot in slots:
        for e in range(indptr[slot], indptr[slot + 1]):
            j = indices[e]
            w[e] = 0.0
            w[indptr[j] + twins[e] if tabled else twin(indptr, indices, slot, j)] = 0.0


@njit(cache=True)
def cut_ties(indptr: np.ndarray, indices: np.ndarray, w: np.ndarray, slots: np.ndarray) -> None:
    """Leavers' ties vanish, both stored directions."""
    _cut_ties(indptr, indices, np.empty(0, np.uint8), w, slots)


@njit(cache=True)
def _join_ties(indptr: np.ndarray, indices: np.ndarray, twins: np.ndarray, w: np.ndarray, filled: np.ndarray,
               slots: np.ndarray, new_strength: float) -> None:
    """New hires start with weak ties to whoever is in post, both stored directions (each twin as `_cut_ties`
    finds it)."""
    tabled = twins.size > 0
    for slot in slots:
        for e in range(indptr[slot], indptr[slot + 1]):
            j = indices[e]
            x = new_strength * (1.0 if (filled[slot] and filled[j]) else 0.0)
            w[e] = x
            w[indptr[j] + twins[e] if tabled else twin(indptr, indices, slot, j)] = x


@njit(cache=True)
def join_ties(indptr: np.ndarray, indices: np.ndarray, w: np.ndarray, filled: np.ndarray, slots: np.ndarray,
              new_strength: float) -> None:
    """New hires start with weak ties to whoever is in post (both stored directions)."""
    _join_ties(indptr, indices, np.empty(0, np.uint8), w, filled, slots, new_strength)


@njit(cache=True)
def csr_from_pairs(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A symmetric CSR pattern from undirected pairs: indptr, column per entry and the pair each entry
    stores (the first of duplicates, as np.unique keeps); columns sorted within each row."""
    m = src.size
    counts = np.zeros(n + 1, np.int64)
    for e in range(m):
        counts[src[e] + 1] += 1
        counts[dst[e] + 1] += 1
    for i in range(n):
        counts[i + 1] += counts[i]
    fill = counts[:-1].copy()
    col = np.empty(2 * m, np.int32)
    pair = np.empty(2 * m, np.int32)
    for e in range(m):  # each row receives its pairs in pair order, so a stable sort keeps the first duplicate first
        a, b = src[e], dst[e]
        col[fill[a]] = b
        pair[fill[a]] = e
        fill[a] += 1
        col[fill[b]] = a
        pair[fill[b]] = e
        fill[b] += 1
    indptr = np.zeros(n + 1, np.int64)
    out = 0
    for i in range(n):
        lo, hi = counts[i], counts[i + 1]
        for p in range(lo + 1, hi):  # insertion sort by column (rows are short), stable
            c, q = col[p], pair[p]
            r = p - 1
            while r >= lo and col[r] > c:
                col[r + 1] = col[r]
                pair[r + 1] = pair[r]
                r -= 1
            col[r + 1] = c
            pair[r + 1] = q
        start = out
        for p in range(lo, hi):  # drop repeated columns (keep the first pair) and compact in place
            if out > start and col[out - 1] == col[p]:
                continue
            col[out] = col[p]
            pair[out] = pair[p]
            out += 1
        indptr[i + 1] = out
    return indptr, col[:out].copy(), pair[:out].copy()


@njit(cache=True)
def initial_ties(indptr: np.ndarray, indices: np.ndarray, kind: np.ndarray, tenure: np.ndarray,
                 filled: np.ndarray, kind_rate: np.ndarray, w: np.ndarray) -> None:
    """Starting tie strength from how long both ends have worked here (Relationships.init)."""
    for i in range(indptr.size - 1):
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            both = _min(tenure[i], tenure[j])
            x = (1.0 - math.exp(-kind_rate[kind[e]] * both)) * (1.0 if filled[i] else 0.0)
            w[e] = x * (1.0 if filled[j] else 0.0)


@njit(cache=True)
def relationships_week(indptr: np.ndarray, indices: np.ndarray, kind: np.ndarray, w: np.ndarray,
                       filled: np.ndarray, agency_worker: np.ndarray, kind_rate: np.ndarray,
                       agency_worker_factor: float, boosted_kind: int, boost: float, morale: np.ndarray,
                       habit: np.ndarray, out: np.ndarray, baseline: np.ndarray, intra: int,
                       inter: int, frag: np.ndarray) -> None:
    """Relationships.step in one pass over the ties. Each tie strengthens toward 1 at its build rate, worked out
    from who holds both ends (no stored rates): the kind's rate while both ends are in post, slower with an
    agency worker at either end; ties of `boosted_kind` build faster still by `boost` (partner liaison). The
    updated tie is then added to its kind's total in entry order (`strength_by_kind`) and to its row's
    neighbour sums (`neighbour_sums`): the same bits as three separate passes, in a third of the memory traffic.
    Writes the fragmentation against `baseline`, the week-0 strength by kind, into `frag` (`fragmentation`).

    Indices read from arrays (the other end, the kind, the codes) are used as unsigned numbers: numba then leaves
    out the check for a negative index (counted from the end) that it adds to every signed one, which was 40% of
    the pass. The two kinds' totals that fragmentation needs are kept in registers: each tie adds its strength
    times 1.0 to its own kind's total and times 0.0 to the other's (x * 1.0 is x, x * 0.0 is +0.0 and t + 0.0 is t
    for the non-negative strengths and totals), in entry order; the partner-liaison boost is multiplied by 1.0 or
    0.0 the same way. Nothing branches on a tie's kind: once a restructure mixes a row's kinds, such branches
    mispredicted and doubled the pass. The boost's extra rate comes from a table like the rate's:
    (1 - x) x (m x s) is the reference's ((1 - x) x m) x s for s in {0.0, 1.0} and non-negative finite m and 1 - x.

    The pass is bound by its sums' chains of dependent adds, so sums that advance together share a register
    (`_Pair`, each lane the scalar multiply and add): the two kinds' totals in one, a row's morale and habit sums in
    another, with each slot's morale and habit copied side by side (one load for both, in one cache line, where the
    other end is anywhere once a restructure has scattered the teams)."""
    n = indptr.size - 1
    # who holds each slot (0 vacant, 1 a permanent holder, 2 an agency worker), and each tie's rate by its kind and
    # the codes of its two ends, worked out as the reference does (kind rate x held x held, x the agency-worker
    # factor): one lookup per tie, no branch on who holds either end. A vacant row's rate is 0, and w + (1 - w) x 0
    # is w: its ties are summed unchanged, as the reference leaves them
    code = np.empty(n, np.uint8)
    pair = np.empty((n, 2))  # morale and habit of each slot, side by side
    for i in range(n):  # the code as arithmetic on the flags: no guess on who is in post (vacancies scatter)
        code[i] = np.uint8(filled[i]) * (np.uint8(1) + np.uint8(agency_worker[i]))
        pair[i, 0] = morale[i]
        pair[i, 1] = habit[i]
    held = np.array([0.0, 1.0, 1.0])
    agency = np.array([0, 0, 1])
    factor = np.array([1.0, agency_worker_factor])
    # each kind's share of a tie in the intra-team and inter-agency totals (one row per kind, both in one load) and
    # in the boosted ones: 1.0 or 0.0, multiplied in, so no branch depends on a tie's kind
    share = np.zeros((kind_rate.size, 2))
    in_boost = np.zeros(kind_rate.size)
    share[intra, 0], share[inter, 1], in_boost[boosted_kind] = 1.0, 1.0, 1.0
    rate = np.empty(kind_rate.size * 9)  # [kind, code of the row, code of the column]
    lift = np.empty(kind_rate.size * 9)  # the boost's extra rate, the same way: min(rate x boost, 1) x in_boost
    for q in range(kind_rate.size):
        for a in range(3):
            for b in range(3):
                r = kind_rate[q] * (held[a] * held[b])
                r *= factor[agency[a] | agency[b]]
                rate[q * 9 + a * 3 + b] = r
                lift[q * 9 + a * 3 + b] = _min(r * boost, 1.0) * in_boost[q]
    boosting = boost > 0
    nine, three = np.uint64(9), np.uint64(3)
    now = _pair_zero()  # intra-team, inter-agency
    for i in range(n):
        sums = _pair_zero()  # the row's morale and habit sums
        s2 = 0.0
        ci = np.uint64(code[i]) * three
        for e in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            j = np.uint64(indices[e])
            ke = np.uint64(kind[e])
            at = ke * nine + ci + np.uint64(code[j])
            we = w[e]
            x = we + (1.0 - we) * rate[at]
            if boosting:
                x += (1.0 - x) * lift[at]
            w[e] = x
            now = _pair_add_scaled(now, _pair_row(share, ke), x)
            sums = _pair_add_scaled(sums, _pair_row(pair, j), x)
            s2 += x * 1.0
        out[i, 0] = _pair_lane(sums, 0)
        out[i, 1] = _pair_lane(sums, 1)
        out[i, 2] = s2
    now_intra, now_inter = _pair_lane(now, 0), _pair_lane(now, 1)
    frag[0] = _missing(now_intra, baseline[intra])
    frag[1] = _missing(now_inter, baseline[inter])
    frag[2] = _missing(now_intra + now_inter, baseline[intra] + baseline[inter])


@njit(cache=True)
def _missing(now: float, base: float) -> float:
    """Share of the baseline strength missing now (Relationships.measure's `missing`)."""
    return _min(_max(1.0 - now / base, 0.0), 1.0) if base > 0 else 0.0


# ----------------------------------------------------------------------------------- mechanisms


# PCG64's output for a state (XSL-RR) and numpy's standard normal from a run of them, stepped in the kernel


@njit(cache=True)
def _pcg_word(hi: Any, lo: Any) -> Any:
    """PCG64's 64-bit output for a state (XSL-RR: the halves xor-ed, rotated right by the top six bits), numpy's
    next_uint64 after its step."""
    x = hi ^ lo
    rot = hi >> np.uint64(58)
    return (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))


@njit(cache=True)
def _pcg_next_double(hi: Any, lo: Any, chi: Any, clo: Any) -> tuple[float, Any, Any]:
    """numpy's next_double from PCG64 at state (hi, lo) with increment (chi, clo): one step, then its output's top
    53 bits times 2^-53; returns the double and the new state."""
    hi, lo = _pcg_step(hi, lo, _PCG_HI, _PCG_LO, chi, clo)
    return float(np.int64(_pcg_word(hi, lo) >> np.uint64(11))) * (1.0 / 9007199254740992.0), hi, lo


# the sign of a ziggurat draw by its sign bit: x * 1.0 is x and x * -1.0 is -x exactly (IEEE: a product by +-1
# is exact and flips only the sign bit, zeros included), with no guess on a random bit
_SIGNS = np.array([1.0, -1.0])


@njit(cache=True)
def _normals(streams: np.ndarray, row: int, out: np.ndarray, n: int) -> None:
    """The first `n` items of `out` := numpy's `standard_normal(n)` from row `row` of the stream table, the stream
    left where numpy leaves it. For numpy's PCG64 whose state the table found at its address (column 4 is 1), the
    state is stepped here in registers, through numpy's ziggurat (numpy/random/src/distributions/distributions.c,
    as numba ports it) written out: the same integer arithmetic as numpy's C, so the same words, the same draws
    and the same final state, without a call and a store per draw; any other generator through numba's port on
    its next_uint64 (so too for a table of four columns, which does not say)."""
    if not _pcg_found(streams, row):
        g = _stream(streams, row)
        for i in range(n):
            out[i] = random_standard_normal(g)
        return
    at = _word(streams[row, 0], 0)  # numpy's pcg64_state begins with the address of {state, inc}, low words first
    lo, hi, clo, chi = _word(at, 0), _word(at, 1), _word(at, 2), _word(at, 3)
    for i in range(n):
        while True:
            hi, lo = _pcg_step(hi, lo, _PCG_HI, _PCG_LO, chi, clo)
            r = _pcg_word(hi, lo)
            idx = r & np.uint64(0xff)
            r >>= np.uint64(8)
            rabs = (r >> np.uint64(1)) & np.uint64(0x000fffffffffffff)
            x = (rabs * wi_double[idx]) * _SIGNS[r & np.uint64(1)]  # rabs < 2^52: exact as a double
            if rabs < ki_double[idx]:  # 99.3% of draws
                break
            if idx == 0:  # the tail
                while True:
                    u, hi, lo = _pcg_next_double(hi, lo, chi, clo)
                    xx = -ziggurat_nor_inv_r * np.log1p(-u)
                    u, hi, lo = _pcg_next_double(hi, lo, chi, clo)
                    yy = -np.log1p(-u)
                    if yy + yy > xx * xx:
                        x = -(ziggurat_nor_r + xx) if (rabs >> np.uint64(8)) & np.uint64(1) else ziggurat_nor_r + xx
                        break
                break
            u, hi, lo = _pcg_next_double(hi, lo, chi, clo)  # a wedge
            if (fi_double[idx - 1] - fi_double[idx]) * u + fi_double[idx] < np.exp(-0.5 * x * x):
                break
        out[i] = x
    _set_word(at, 0, lo)
    _set_word(at, 1, hi)


# slots per block of the morale and slippage passes: their columns of scratch stay in the core's first-level cache
_PASS_BLOCK = 512


@njit(cache=True)
def _fatigue_pressures(lo: int, n: int, change_load: np.ndarray, change_buffer: np.ndarray, change_effect: float,
                       load0: float, load1: float, load2: float, fatigue0: float, fatigue1: float, fatigue2: float,
                       pressure0: np.ndarray) -> int:
    """Slots lo..lo+n-1's fatigue term from the three kept powers, chosen by a select, four slots at a time; returns
    how many slots have a load other than the three kept (none, most weeks), whose terms the caller makes again."""
    misses = 0
    for b in range(n):
        i = np.uint64(lo + b)
        load = change_load[i]
        hit0, hit1 = load == load0, load == load1
        misses += not (hit0 | hit1 | (load == load2))
        fatigue = fatigue0 if hit0 else (fatigue1 if hit1 else fatigue2)
        pressure = change_effect * fatigue
        pressure *= 1.0 - change_buffer[i]
        pressure0[b] = pressure
    return misses


@njit(cache=True, error_model="numpy")
def _morale_rates(lo: int, n: int, mor: np.ndarray, nb: np.ndarray, base_row: np.ndarray, pressure0: np.ndarray,
                  workload: np.ndarray, direct_time: np.ndarray, case_holder: np.ndarray, staff: np.ndarray,
                  leaver_exposure: np.ndarray, support: np.ndarray, reference_direct: float, baseline: float,
                  recovery_rate: float, contagion_rate: float, workload_threshold: float, workload_effect: float,
                  direct_time_effect: float, fragmentation_effect: float, leaver_effect: float, level: float,
                  rest: float, total: np.ndarray, gap: np.ndarray) -> None:
    """Slots lo..lo+n-1 of `morale_step`: each slot's summed rate (`total`) and its target's distance from its
    morale (`gap`), with no branch and no call, so that the compiler does four slots at once (AVX: four quotients
    in one division). Each quotient is computed whether or not it is chosen, and the choice is a select: the chosen
    values are the same IEEE quotients as the branches' (a vector lane computes exactly what a scalar division
    does); an unchosen one may be inf or NaN (a zero strength, a zero total), which the select drops, and the numpy
    error model makes it no exception. `nb` is the neighbour sums flattened (three per slot): a fixed stride of 3,
    which the compiler loads as vectors and shuffles; unsigned indices (no test for a negative one)."""
    three, two = np.uint64(3), np.uint64(2)
    for b in range(n):
        i = np.uint64(lo + b)
        m = mor[i]
        rs = nb[i * three + two]
        q = nb[i * three] / rs
        peer = q if rs > 1e-9 else m
        br = base_row[i]
        f = _max(1.0 - rs / _max(br, 1e-9), 0.0)
        frag = f if br > 1e-9 else 0.0
        pressure = pressure0[b]
        pressure += workload_effect * _max(workload[i] - workload_threshold, 0.0)
        pressure -= direct_time_effect * (direct_time[i] - reference_direct) * case_holder[i]
        pressure += fragmentation_effect * frag * staff[i]
        pressure += leaver_effect * leaver_exposure[i]
        drive = support[i] - pressure
        # only the pull the drive's sign selects is non-zero: one division, its divisor chosen
        up_ = drive > 0.0
        pulled = (drive if up_ else _max(-drive, 0.0)) / (rest if up_ else level)
        up = pulled if up_ else 0.0
        down = 0.0 if up_ else pulled
        t = 0.0 + recovery_rate + contagion_rate + up + down
        pull = 0.0 + recovery_rate * baseline + contagion_rate * peer + up * 1.0 + down * 0.0
        total[b] = t
        target = pull / t
        gap[b] = (target if t > 0.0 else m) - m


@njit(cache=True)
def _morale_update(lo: int, n: int, mor: np.ndarray, step: np.ndarray, gap: np.ndarray, noise: np.ndarray,
                   noise_sd: float) -> None:
    """Slots lo..lo+n-1 of `morale_step`: numerics.approach (x + step * (target - x)) plus the noise, clipped;
    four slots at a time (unsigned indices: no test for a negative one, which would keep the stores from
    vectorising)."""
    for b in range(n):
        i = np.uint64(lo + b)
        x = mor[i] + step[b] * gap[b]
        mor[i] = _clip(x + (0.0 + noise_sd * noise[b]), 0.0, 1.0)


@njit(cache=True)
def morale_step(streams: np.ndarray, mor: np.ndarray, nb: np.ndarray, base_row: np.ndarray,
                change_load: np.ndarray, change_buffer: np.ndarray, workload: np.ndarray, direct_time: np.ndarray,
                case_holder: np.ndarray, staff: np.ndarray, leaver_exposure: np.ndarray, support: np.ndarray,
                z: np.ndarray, reference_direct: float, pars: np.ndarray) -> None:
    """Morale (mechanisms/morale.py): recovery, contagion and the net pressure as one bounded approach, plus noise.
    The noise is numpy's normal(0, sd): 0 + sd * a standard normal draw, computed here as numpy computes it; the
    draws are those of `z` if it holds any, else made here from the stream in row 0 of `streams`
    (`compiled.stream_table`; `_normals`: numpy's `standard_normal(n)` draws, leaving the stream where numpy would).
    `nb` is the neighbour sums (morale, habit, tie strength; C-contiguous); `pars` is the mechanism's parameter
    record (compiled.record).

    In passes over each block of slots, the same IEEE operations on the same numbers as one pass: the fatigue term,
    the rates and targets (`_morale_rates`), the steps 1 - exp(-total) (each slot's total is its own: a loop of
    calls only), the draws, then the update (`_morale_update`); all but the calls four slots at a time. Two
    shortcuts keep the bits. The fatigue power is looked up by the change load itself rather than by load /
    reference: equal loads give equal quotients but for +0 and -0, and a zero of either sign in the pressure only
    reaches the rates' sums (`0.0 + ...`, non-negative terms), where x + (-0.0) is x. And the up and down pulls take
    one division, not two: the pull the drive's sign does not select is +0.0 (or -0.0 at a zero drive) either way,
    which those sums add as nothing; a NaN drive gives both 0, as `_max` does."""
    p = pars[0]
    noise_sd = p.noise_sd
    baseline = p.baseline
    change_effect, reference_change_load, change_fatigue = p.change_effect, p.reference_change_load, p.change_fatigue
    level = min(max(baseline, 0.2), 0.8)
    rest = 1.0 - level
    # the fatigue term's power of the last three distinct change loads is kept (a week has two or three: none, and
    # what each group's changes add up to, alternating slot by slot between roles), keyed by the load itself: the
    # same number without another pow or division
    load0 = load1 = load2 = np.nan
    fatigue0 = fatigue1 = fatigue2 = 0.0
    draw = z.size == 0
    n = mor.size
    if nb.shape[1] != 3:  # `_morale_rates` reads the flattened sums at a stride of 3
        raise ValueError("morale_step: the neighbour sums must have three columns (morale, habit, tie strength)")
    flat = nb.reshape(-1)
    k = min(n, _PASS_BLOCK)
    pressure0, total, gap, noise = np.empty(k), np.empty(k), np.empty(k), np.empty(k)
    for lo in range(0, n, _PASS_BLOCK):
        m = min(n - lo, _PASS_BLOCK)
        if _fatigue_pressures(lo, m, change_load, change_buffer, change_effect, load0, load1, load2, fatigue0,
                              fatigue1, fatigue2, pressure0) > 0:
            # a block with a load not kept (the first, or a change programme's new step): again, slot by slot
            for b in range(m):
                i = lo + b
                load = change_load[i]
                hit0, hit1, hit2 = load == load0, load == load1, load == load2
                if not (hit0 | hit1 | hit2):  # a new load: its power, kept in place of the oldest
                    fatigue = _scalar_power(load / reference_change_load, change_fatigue)
                    load2, fatigue2, load1, fatigue1 = load1, fatigue1, load0, fatigue0
                    load0, fatigue0 = load, fatigue
                    hit0 = True
                fatigue = fatigue0 if hit0 else (fatigue1 if hit1 else fatigue2)
                pressure = change_effect * fatigue
                pressure *= 1.0 - change_buffer[i]
                pressure0[b] = pressure
        _morale_rates(lo, m, mor, flat, base_row, pressure0, workload, direct_time, case_holder, staff,
                      leaver_exposure, support, reference_direct, baseline, p.recovery_rate, p.contagion_rate,
                      p.workload_threshold, p.workload_effect, p.direct_time_effect, p.fragmentation_effect,
                      p.leaver_effect, level, rest, total, gap)
        for b in range(m):
            total[b] = -math.expm1(-total[b])  # the step, in place of the total
        if draw:
            _normals(streams, 0, noise, m)
        else:
            for b in range(m):
                noise[b] = z[lo + b]
        _morale_update(lo, m, mor, total, gap, noise, noise_sd)


@njit(cache=True)
def _culture_key(team: int, front: bool, reinforcement: float) -> np.uint64:
    """Which of the steps kept per team and kind of slot (`culture_step`) a slot's summed rate is looked up in: its
    team (-1 for none; `compiled.team_table` checks the range), whether it is a frontline post, whether it is
    reinforced. Slots of one key share every term of the rate but the reinforcement's amount, which a group's
    intervention gives all alike."""
    return np.uint64(((team + 1) * 2 + np.int64(front)) * 2 + np.int64(reinforcement != 0.0))


@njit(cache=True)
def _culture_total(coworker_rate: float, manager_rate: float, reinforcement_rate: float, conformity_rate: float,
                   st: float, front: bool, reinforcement: float, sustain: float) -> tuple[float, float, float, float,
                                                                                      float]:
    """A slot's socialisation rates (coworkers, manager, reinforcement, conformity) and their sum, as the reference
    lists and sums them (`approach`: 0.0 plus each in turn)."""
    r0 = coworker_rate * st
    r1 = manager_rate * st * (1.0 if front else 0.0)
    r2 = reinforcement_rate * reinforcement * st
    r3 = conformity_rate * sustain
    return 0.0 + r0 + r1 + r2 + r3, r0, r1, r2, r3


@njit(cache=True)
def team_posts(team: np.ndarray, frontline: np.ndarray, start: np.ndarray, slots: np.ndarray) -> None:
    """Each team's frontline posts in slot order into `slots` (team k's at `start[k]:start[k + 1]`, `start` of
    size teams + 1 and `slots` of the number of such posts): a counting sort, without the temporaries of an argsort
    (a few MB at a million staff)."""
    start[:] = 0
    for i in range(team.size):
        if frontline[i] and team[i] >= 0:
            start[team[i] + 1] += 1
    for k in range(start.size - 1):
        start[k + 1] += start[k]
    at = start[:-1].copy()
    for i in range(team.size):
        if frontline[i] and team[i] >= 0:
            slots[at[team[i]]] = i
            at[team[i]] += 1


@njit(cache=True)
def culture_step(habit: np.ndarray, nb: np.ndarray, rowsum: np.ndarray, staff: np.ndarray, frontline: np.ndarray,
                 reinforcement: np.ndarray, sustain: np.ndarray, norm_of: np.ndarray, mgr_of: np.ndarray,
                 filled: np.ndarray, manager_control: np.ndarray, prescription: float, team: np.ndarray,
                 tenure: np.ndarray, manager_slot: np.ndarray, norm: np.ndarray, incumbent_weeks: float,
                 team_start: np.ndarray, team_slots: np.ndarray, pars: np.ndarray) -> None:
    """Culture (mechanisms/culture.py): socialisation and reinforcement, then team norms and how far each tipped.

    Each slot's step 1 - exp(-total) is looked up, not worked out: slots of one team and kind (`_culture_key`) share
    their summed rate, so a first pass keeps each key's total and one expm1 per key gives the steps (about 2,700 at
    10,000 staff after a restructure, against 6,000 changes of total from one slot to the next); a slot whose total
    is not its key's (another reinforcement) works its own out. Equal totals give the step's bits (no total is -0.0:
    each sum starts at +0.0). A colleague's mean habit and the manager's control are chosen, not branched to
    (vacancies scatter: the branches mispredicted).

    Each team's practice (Culture.team_practice: incumbents' mean habit blended with the manager's) is summed team
    by team from the table of each team's frontline posts in slot order (`team_start`, `team_slots`:
    `compiled.team_table`, made again after a restructure), each post adding its habit times 1.0 or 0.0 rather than
    being branched on (who is in post, and for how long, is not predictable once the posts are scattered): h x 0.0
    is +-0.0 for a finite habit h, and s + (+-0.0) is s for a sum that starts at +0.0 (so is never -0.0), which keeps
    the bits of the reference's `np.bincount` over the posts in post, in slot order."""
    p = pars[0]
    coworker_rate, manager_rate, reinforcement_rate = p.coworker_rate, p.manager_rate, p.reinforcement_rate
    conformity_rate, target_habit, norm_weeks = p.conformity_rate, p.target_habit, p.norm_weeks
    norm_threshold, norm_steepness, manager_norm_weight = p.norm_threshold, p.norm_steepness, p.manager_norm_weight
    n = habit.size
    t = manager_slot.size
    keys = (t + 1) * 4
    key_total, key_step = np.empty(keys), np.empty(keys)
    key_total[:] = np.nan  # a key no slot has: its step is never read
    for i in range(n):  # every key's total (the last of its slots': all alike but for another reinforcement)
        total = _culture_total(coworker_rate, manager_rate, reinforcement_rate, conformity_rate, staff[i],
                               frontline[i], reinforcement[i], sustain[i])[0]
        key_total[_culture_key(team[i], frontline[i], reinforcement[i])] = total
    for q in range(keys):
        key_step[q] = -math.expm1(-key_total[q])
    for ii in range(n):
        i = np.uint64(ii)
        c = habit[i]
        rs = rowsum[i]
        has = rs > 1e-9
        ratio = nb[i] / (rs if has else 1.0)
        peer = ratio if has else c
        mgr = np.uint64(mgr_of[i])
        mc = manager_control[mgr]
        control = mc if filled[mgr] else prescription
        front, reinforced = frontline[i], reinforcement[i]
        total, r0, r1, r2, r3 = _culture_total(coworker_rate, manager_rate, reinforcement_rate, conformity_rate,
                                               staff[i], front, reinforced, sustain[i])
        pull = 0.0 + r0 * peer + r1 * control + r2 * target_habit + r3 * target_habit
        key = _culture_key(team[i], front, reinforced)
        step = key_step[key] if key_total[key] == total else -math.expm1(-total)
        habit[i] = _approach_by(c, total, pull, step)
    # per team, the habits of frontline posts in post and of those held past induction (incumbents), summed in slot
    # order: the norm is taken from the incumbents', or from everyone's in post where a team has none
    held, held_sum = np.zeros(t, np.int64), np.zeros(t)
    incumbents, incumbent_sum = np.zeros(t, np.int64), np.zeros(t)
    zero_one = np.array([0.0, 1.0])
    for k in range(t):
        c0, c1 = np.int64(0), np.int64(0)
        s0, s1 = 0.0, 0.0
        for q in range(np.uint64(team_start[k]), np.uint64(team_start[k + 1])):
            i = np.uint64(team_slots[q])
            f = np.int64(filled[i])
            g = f & np.int64(tenure[i] >= incumbent_weeks)
            h = habit[i]
            c0 += f
            s0 += h * zero_one[f]
            c1 += g
            s1 += h * zero_one[g]
        held[k], held_sum[k], incumbents[k], incumbent_sum[k] = c0, s0, c1, s1
    lag = -math.expm1(-1.0 / norm_weeks)
    tipped = np.empty(t)
    for k in range(t):
        mslot = manager_slot[k]
        mgr_habit = habit[mslot] if filled[mslot] else prescription
        count, total = (incumbents[k], incumbent_sum[k]) if incumbents[k] > 0 else (held[k], held_sum[k])
        front_habit = total / max(count, 1) if count > 0 else mgr_habit
        practice = (1.0 - manager_norm_weight) * front_habit + manager_norm_weight * mgr_habit
        norm[k] += lag * (practice - norm[k])
        z = _clip((norm_threshold - norm[k]) / norm_steepness, -60.0, 60.0)
        tipped[k] = 1.0 / (1.0 + math.exp(-z))
    for i in range(n):
        k = max(team[i], 0)
        sustain[i] = tipped[k] if staff[i] != 0.0 else 0.0
        norm_of[i] = norm[k]


@njit(cache=True)
def prescription(habit: np.ndarray, staff: np.ndarray, filled: np.ndarray, last: float, jump: float, policy: float,
                 service_standard: float, omission_masking: float, omission_sensitivity: float,
                 relax_rate: float) -> float:
    """This week's local prescription (Slippage.step): last week's, plus inspections and incidents and the omissions
    a mean compliance habit (over staff in post) fails to mask, relaxing toward policy; within [0, 1]."""
    n = habit.size
    buf = np.empty(n)
    kept = np.empty(min(n, _PASS_BLOCK), np.uint8)
    k = 0
    for lo in range(0, n, _PASS_BLOCK):
        m = min(n - lo, _PASS_BLOCK)
        for b in range(m):  # who is in post, in a loop of its own (vectorised): the next reads one byte a slot
            i = np.uint64(lo + b)
            kept[b] = staff[i] & filled[i]
        for b in range(m):  # every habit written, only staff in post kept: no guess on who is (vacancies scatter)
            buf[k] = habit[np.uint64(lo + b)]
            k += kept[b]
    c_mean = (0.0 + _pairwise(buf, 0, k)) / k if k > 0 else 0.0
    omissions = (1.0 - service_standard) * (1.0 - omission_masking * c_mean)
    P = last + jump + omission_sensitivity * omissions
    P += relax_rate * (policy - P)
    return _min(_max(P, 0.0), 1.0)


@njit(cache=True)
def _slippage_steps(tension_total: np.ndarray, tension_step: np.ndarray, habit_total: np.ndarray,
                    habit_step: np.ndarray, n: int, calm: float) -> None:
    """The first `n` steps 1 - exp(-t) of tension and of habit, in one loop: one expm1 per run of equal totals
    (`_steps` on columns of their own), and none for the tension total `calm` that every non-manager shares, whose
    step is made once (after a restructure the managers sit alone between calm slots, and each then costs one call
    and one mispredicted guess, not two). Equal totals give equal steps: the same function of the same number (no
    total is -0.0, every one being a sum begun at 0.0, so equal doubles have equal bits)."""
    calm_step = -math.expm1(-calm)
    last, value = np.nan, 0.0
    habit_last, habit_value = np.nan, 0.0
    for b in range(n):
        t = tension_total[b]
        if t == calm:
            tension_step[b] = calm_step
        else:
            if t != last:
                last, value = t, -math.expm1(-t)
            tension_step[b] = value
        h = habit_total[b]
        if h != habit_last:
            habit_last, habit_value = h, -math.expm1(-h)
        habit_step[b] = habit_value


@njit(cache=True)
def _slippage_rates(lo: int, n: int, pressure: np.ndarray, sustain: np.ndarray, norm_of: np.ndarray,
                    staff: np.ndarray, sustained_pressure: np.ndarray, damping: float, norm_protection: float,
                    old_attractor: float, tighten_rate: float, tension_relax_rate: float, decay_rate: float,
                    staff_push: float, goal_erosion_rate: float, tension_total: np.ndarray, tension_pull: np.ndarray,
                    habit_total: np.ndarray, habit_pull: np.ndarray) -> None:
    """Slots lo..lo+n-1 of `slippage_step`: the summed rates and pulls of tension and habit, given each slot's
    pressure. No branch, no call, no gather and unsigned indices (no test for a negative one), so the compiler does
    four slots at once; a vector lane's product or sum is the scalar's."""
    for b in range(n):
        i = np.uint64(lo + b)
        w = sustain[i]
        guard = (1.0 - damping) * (1.0 - norm_protection * w)
        drive = tighten_rate * pressure[b] * guard
        tension_total[b] = 0.0 + drive + tension_relax_rate
        tension_pull[b] = 0.0 + drive * 1.0 + tension_relax_rate * 0.0
        st = staff[i]
        attractor = w * norm_of[i] + (1.0 - w) * old_attractor
        r0 = decay_rate * guard * st
        r1 = staff_push * guard * st
        r2 = goal_erosion_rate * sustained_pressure[i] * st
        habit_total[b] = 0.0 + r0 + r1 + r2
        habit_pull[b] = 0.0 + r0 * attractor + r1 * 1.0 + r2 * 1.0


@njit(cache=True, error_model="numpy")
def _slippage_update(lo: int, n: int, habit: np.ndarray, tension: np.ndarray, manager_control: np.ndarray,
                     tension_total: np.ndarray, tension_pull: np.ndarray, tension_step: np.ndarray,
                     habit_total: np.ndarray, habit_pull: np.ndarray, habit_step: np.ndarray) -> None:
    """Slots lo..lo+n-1 of `slippage_step`: `_approach_by` of tension and habit, then control, four slots at a time.
    Each target's quotient is computed whether or not it is chosen, and the choice is a select: a chosen quotient
    is the same IEEE division as the branch's; an unchosen one (a zero total) may be NaN, which the select drops,
    and the numpy error model makes it no exception. Unsigned indices: no test for a negative one, which would
    keep the stores from vectorising."""
    for b in range(n):
        i = np.uint64(lo + b)
        x = tension[i]
        total = tension_total[b]
        q = tension_pull[b] / total
        t = x + tension_step[b] * ((q if total > 0.0 else x) - x)
        tension[i] = t
        x = habit[i]
        total = habit_total[b]
        q = habit_pull[b] / total
        c = x + habit_step[b] * ((q if total > 0.0 else x) - x)
        habit[i] = c
        manager_control[i] = t * (1.0 - c) + c


@njit(cache=True)
def slippage_step(habit: np.ndarray, tension: np.ndarray, manager_control: np.ndarray, sustain: np.ndarray,
                  norm_of: np.ndarray, staff: np.ndarray, manager: np.ndarray, team_of_manager: np.ndarray,
                  sustained_pressure: np.ndarray, team_cases: np.ndarray, team_capacity: np.ndarray,
                  excess_p: float, damping: float, norm_protection: float, old_attractor: float,
                  pars: np.ndarray) -> None:
    """Slippage (mechanisms/slippage.py), per slot: managers' tension, the pulls back to compliance, control.

    In passes over each block of slots, the same IEEE operations on the same numbers as one pass: each slot's
    pressure (its team's overload, gathered), the summed rates and pulls four slots at a time (`_slippage_rates`),
    the steps (`_slippage_steps`), then the update four slots at a time (`_slippage_update`)."""
    p = pars[0]
    overload_cap, tighten_rate, tension_relax_rate = p.overload_pressure_cap, p.tighten_rate, p.tension_relax_rate
    overload = np.empty(team_cases.size)
    for k in range(team_cases.size):
        overload[k] = _min(_max(team_cases[k] / _max(team_capacity[k], 1e-9) - 1.0, 0.0), overload_cap)
    staff_push = p.staff_pressure_rate * excess_p
    # the tension total of a slot under no pressure (non-managers): 0.0 + (+-0.0) + relax rate
    calm = 0.0 + 0.0 + tension_relax_rate
    n = habit.size
    k = min(n, _PASS_BLOCK)
    pressure, tension_total, tension_pull, tension_step = np.empty(k), np.empty(k), np.empty(k), np.empty(k)
    habit_total, habit_pull, habit_step = np.empty(k), np.empty(k), np.empty(k)
    for lo in range(0, n, _PASS_BLOCK):
        m = min(n - lo, _PASS_BLOCK)
        for b in range(m):
            i = np.uint64(lo + b)
            pressure[b] = (excess_p + overload[team_of_manager[i]]) * (1.0 if manager[i] else 0.0)
        _slippage_rates(lo, m, pressure, sustain, norm_of, staff, sustained_pressure, damping, norm_protection,
                        old_attractor, tighten_rate, tension_relax_rate, p.decay_rate, staff_push,
                        p.goal_erosion_rate, tension_total, tension_pull, habit_total, habit_pull)
        _slippage_steps(tension_total, tension_step, habit_total, habit_step, m, calm)
        _slippage_update(lo, m, habit, tension, manager_control, tension_total, tension_pull, tension_step,
                         habit_total, habit_pull, habit_step)


@njit(cache=True)
def slippage_week(habit: np.ndarray, staff: np.ndarray, filled: np.ndarray, last: float, jump: float, policy: float,
                  service_standard: float, sector_habit: float, tension: np.ndarray, manager_control: np.ndarray,
                  sustain: np.ndarray, norm_of: np.ndarray, staff_share: np.ndarray, manager: np.ndarray,
                  team_of_manager: np.ndarray, sustained_pressure: np.ndarray, team_cases: np.ndarray,
                  team_capacity: np.ndarray, damping: float, norm_protection: float, pars: np.ndarray) -> float:
    """Slippage.step after its draws in one call: this week's `prescription`, the excess over policy and the old
    culture's attractor (Python's max and arithmetic, the same IEEE operations), then every slot
    (`slippage_step`). Returns the prescription to publish."""
    p = pars[0]
    P = prescription(habit, staff, filled, last, jump, policy, service_standard, p.omission_masking,
                     p.omission_sensitivity, p.prescription_relax_rate)
    excess_p = _max(P - policy, 0.0)
    old = p.prescription_weight * P + (1.0 - p.prescription_weight) * sector_habit
    slippage_step(habit, tension, manager_control, sustain, norm_of, staff_share, manager, team_of_manager,
                  sustained_pressure, team_cases, team_capacity, excess_p, damping, norm_protection, old, pars)
    return P


@njit(cache=True)
def learning_curves(proficiency: np.ndarray, affects: np.ndarray, live: np.ndarray, rate: np.ndarray,
                    dip: np.ndarray, recording: np.ndarray, lasting: np.ndarray, learning_boost: np.ndarray,
                    out: np.ndarray) -> None:
    """ChangeProgramme's learning curves: proficiency closes a share of its gap; capacity and recording follow
    (into `out`'s two rows: arrays made by the caller, which numba need not box on the way back). The live changes
    are taken two at a time in one pass over the slots (each slot still takes its changes in order, as the
    reference), and the first pass writes both rows as the reference's `1.0 *` and `0.0 +` on its fresh rows (the
    same operations), so the rows are neither filled first nor read and written once per change."""
    prod, rec = out[0], out[1]
    if live.size == 0:
        prod[:] = 1.0
        rec[:] = 0.0
        return
    for j in range(0, live.size, 2):
        if j + 1 < live.size:
            _curve_pair(proficiency[live[j]], affects[live[j]], rate[live[j]], dip[live[j]], recording[live[j]],
                        lasting[live[j]], proficiency[live[j + 1]], affects[live[j + 1]], rate[live[j + 1]],
                        dip[live[j + 1]], recording[live[j + 1]], lasting[live[j + 1]], learning_boost, prod, rec,
                        j == 0)
        else:
            _curve(proficiency[live[j]], affects[live[j]], rate[live[j]], dip[live[j]], recording[live[j]],
                   lasting[live[j]], learning_boost, prod, rec, j == 0)


@njit(cache=True)
def _curve(prof: np.ndarray, who_k: np.ndarray, rate_k: float, dip_k: float, recording_k: float, lasting_k: float,
           learning_boost: np.ndarray, prod: np.ndarray, rec: np.ndarray, first: bool) -> None:
    """One live change's learning curve over the slots (`first`: onto the rows' starting 1.0 and 0.0)."""
    if first:
        for i in range(prof.size):
            who = 1.0 if who_k[i] else 0.0
            gap = (1.0 - prof[i]) * who
            prof[i] += gap * _min(rate_k * (1.0 + learning_boost[i]), 1.0)
            gap = (1.0 - prof[i]) * who
            prod[i] = 1.0 * (1.0 - dip_k * gap)
            rec[i] = 0.0 + (recording_k * gap + lasting_k * who)
    else:
        for i in range(prof.size):
            who = 1.0 if who_k[i] else 0.0
            gap = (1.0 - prof[i]) * who
            prof[i] += gap * _min(rate_k * (1.0 + learning_boost[i]), 1.0)
            gap = (1.0 - prof[i]) * who
            prod[i] *= 1.0 - dip_k * gap
            rec[i] += recording_k * gap + lasting_k * who


@njit(cache=True)
def _curve_pair(prof: np.ndarray, who_k: np.ndarray, rate_k: float, dip_k: float, recording_k: float,
                lasting_k: float, prof2: np.ndarray, who_k2: np.ndarray, rate_k2: float, dip_k2: float,
                recording_k2: float, lasting_k2: float, learning_boost: np.ndarray, prod: np.ndarray,
                rec: np.ndarray, first: bool) -> None:
    """Two live changes' learning curves in one pass over the slots, the first change then the second at each slot
    (`first`: onto the rows' starting 1.0 and 0.0)."""
    for i in range(prof.size):
        boost = learning_boost[i]
        who = 1.0 if who_k[i] else 0.0
        gap = (1.0 - prof[i]) * who
        prof[i] += gap * _min(rate_k * (1.0 + boost), 1.0)
        gap = (1.0 - prof[i]) * who
        who2 = 1.0 if who_k2[i] else 0.0
        gap2 = (1.0 - prof2[i]) * who2
        prof2[i] += gap2 * _min(rate_k2 * (1.0 + boost), 1.0)
        gap2 = (1.0 - prof2[i]) * who2
        if first:
            p = 1.0 * (1.0 - dip_k * gap)
            r = 0.0 + (recording_k * gap + lasting_k * who)
        else:
            p = prod[i] * (1.0 - dip_k * gap)
            r = rec[i] + (recording_k * gap + lasting_k * who)
        prod[i] = p * (1.0 - dip_k2 * gap2)
        rec[i] = r + (recording_k2 * gap2 + lasting_k2 * who2)


@njit(cache=True)
def change_week(load: np.ndarray, start: np.ndarray, duration: np.ndarray, disruption: np.ndarray,
                group: np.ndarray, shift_by: np.ndarray, week: int, roles: np.ndarray, agency_worker: np.ndarray,
                tenure: np.ndarray, new_hire_weeks: float) -> tuple[int, float]:
    """ChangeProgramme.step's loop over its changes in a week without a go-live: each slot's change load (the
    disruption of every change in its implementation period whose group holds the slot, added in programme order
    from 0), the pace and the prescription shift (Python's arithmetic: the same IEEE operations). Groups fixed by
    the post (all, staff, frontline, managers, partners) are read from `roles`; the groups of each slot's holder
    (`group_bits`: new hires, agency workers) are worked out only in a week that needs them. Every load is written,
    those outside the group with their own value: after a restructure a group's posts are scattered, and a branch
    per slot mispredicted."""
    pace = 0
    shift = 0.0
    holders = False  # whether a change in its implementation period reaches a group of holders
    for c in range(start.size):
        if start[c] <= week < start[c] + duration[c]:
            pace += 1
            holders |= ((1 << group[c]) & _HOLDER_BITS) != 0
        if shift_by[c] != 0.0:
            x = (week - start[c] + 1) / duration[c]
            x = 0.0 if x < 0.0 else x  # Python's max(x, 0.0), then min(x, 1.0)
            x = 1.0 if x > 1.0 else x
            shift += shift_by[c] * x
    load[:] = 0.0
    if pace == 0:
        return pace, shift
    groups = group_bits(roles, agency_worker, tenure, new_hire_weeks) if holders else roles
    for c in range(start.size):  # change by change, as the reference adds their loads
        if start[c] <= week < start[c] + duration[c]:
            bit = 1 << group[c]
            d = disruption[c]
            for i in range(load.size):
                x = load[i]
                load[i] = x + d if groups[i] & bit else x
    return pace, shift


@njit(cache=True)
def change_programme_week(load: np.ndarray, whole: np.ndarray, fraction: np.ndarray, week: int, roles: np.ndarray,
                          agency_worker: np.ndarray, tenure: np.ndarray, new_hire_weeks: float,
                          proficiency: np.ndarray, affects: np.ndarray, live: np.ndarray, rate: np.ndarray,
                          dip: np.ndarray, recording: np.ndarray, lasting: np.ndarray, learning_boost: np.ndarray,
                          out: np.ndarray, learn: bool) -> tuple[int, float]:
    """ChangeProgramme.step in a week without a go-live, in one call: `change_week` on the changes' start weeks,
    durations and groups (the rows of `whole`) and disruptions and prescription changes (the rows of `fraction`),
    then (`learn`: a learning curve has gone live) `learning_curves` into `out`, as the reference runs them one after
    the other."""
    pace, shift = change_week(load, whole[0], whole[1], fraction[0], whole[2], fraction[1], week, roles, agency_worker,
                              tenure, new_hire_weeks)
    if learn:
        learning_curves(proficiency, affects, live, rate, dip, recording, lasting, learning_boost, out)
    return pace, shift


@njit(cache=True)
def turnover_week(intention: np.ndarray, tenure: np.ndarray, leaver_exposure: np.ndarray, morale: np.ndarray,
                  workload: np.ndarray, role_factor: np.ndarray, hazard_mult: np.ndarray, agency_worker: np.ndarray,
                  partner: np.ndarray, base_hazard: float, filled: np.ndarray, u: np.ndarray, overflow: np.ndarray,
                  overflow_open: np.ndarray, team: np.ndarray, overflow_rank: np.ndarray, overflow_share: float,
                  pars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turnover (mechanisms/turnover.py) up to its exits (`_exits`). Returns the leavers and the open overflow
    slots."""
    leaving, open_overflow, _ = _exits(intention, tenure, leaver_exposure, morale, workload, role_factor, hazard_mult,
                                       agency_worker, partner, base_hazard, filled, u, overflow, overflow_open, team,
                                       overflow_rank, overflow_share, pars, np.empty(filled.size, np.int64))
    return leaving, open_overflow


@njit(cache=True)
def _exits(intention: np.ndarray, tenure: np.ndarray, leaver_exposure: np.ndarray, morale: np.ndarray,
           workload: np.ndarray, role_factor: np.ndarray, hazard_mult: np.ndarray, agency_worker: np.ndarray,
           partner: np.ndarray, base_hazard: float, filled: np.ndarray, u: np.ndarray, overflow: np.ndarray,
           overflow_open: np.ndarray, team: np.ndarray, overflow_rank: np.ndarray, overflow_share: float,
           pars: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Turnover (mechanisms/turnover.py) up to its exits: exposure decays, intention follows its drivers, tenure
    grows (every slot); then each holder's exit hazard and whether they leave this week (their draw under
    it, or their overflow slot closed). Returns the leavers, the open overflow slots and how many slots it listed
    in `free`, in order: those without a permanent holder once the leavers have gone (empty, held by an agency
    worker, or left this week). The hazard is only compared with the draw, so it is not worked out where the
    reference's is never read (an empty slot) nor where the draw is above the largest value it could take (most
    permanent holders, most weeks: the two `exp` are skipped); both are found before the slot-by-slot pass,
    without branching on which slots are filled (scattered over the slots)."""
    p = pars[0]
    decay, base = p.leaver_exposure_decay, p.intention_base
    w_morale, morale_ref = p.intention_morale, p.intention_morale_ref
    w_workload, w_leavers, rate = p.intention_workload, p.intention_leavers, p.intention_rate
    excess, early_weeks, weight, ref, cap = (p.early_tenure_excess, p.early_tenure_weeks, p.intention_weight,
                                             p.intention_ref, p.intention_hazard_cap)
    agency_hazard, partner_hazard = p.agency_worker_exit_hazard, p.partner_exit_hazard
    most = 1.0 + excess  # the early-tenure factor's largest value (its exp is at most 1 for a tenure of 0 or more)
    bounded = excess >= 0.0 and cap >= 0.0
    n = filled.size
    # every slot's state, one array a loop: each such loop is compiled to vector instructions (the same operations
    # lane by lane, so the same bits), which one loop writing three arrays beside the exits' branches was not
    for i in range(n):
        leaver_exposure[i] *= decay
    for i in range(n):
        target = base + w_morale * (morale_ref - morale[i])
        target += w_workload * _max(workload[i] - 1.0, 0.0)
        target += w_leavers * leaver_exposure[i]
        target = _clip(target, 0.0, 1.0)
        intention[i] += rate * (target - intention[i])
    for i in range(n):
        tenure[i] += 1.0
    # whether a slot's week is quiet: empty, or a permanent holder whose draw is at or above the largest hazard the
    # operations below can give (each factor there is at most its counterpart here, all are non-negative, and
    # rounding is monotonic): no exit, and the two exp are not needed. A loop of its own, without branches, is
    # compiled to vector instructions; the loop after it then branches on a flag that is almost always set
    quiet = np.empty(n, np.bool_)
    for i in range(n):
        h = base_hazard * role_factor[i]
        m = hazard_mult[i]
        stays = (tenure[i] >= 0.0) & (h >= 0.0) & (m >= 0.0) & (u[i] >= ((h * most) * cap) * m)
        quiet[i] = (not filled[i]) | (bounded & (not (partner[i] | agency_worker[i])) & stays)
    open_overflow = np.empty(n, np.bool_)
    leaving = np.empty(n, np.int64)
    k = 0
    nf = 0
    for i in range(n):
        # an overflow slot first: most slots are not, and then neither their team nor their rank is read
        ov = overflow[i]
        o = ov and overflow_open[max(team[i], 0)] and overflow_rank[i] < overflow_share
        open_overflow[i] = o
        held = filled[i]
        free[nf] = i
        if quiet[i] and not (held and ov and not o):
            nf += not held
            continue
        te = tenure[i]
        if partner[i]:
            h = partner_hazard
        elif agency_worker[i]:
            h = agency_hazard * hazard_mult[i]
        else:
            h = base_hazard * role_factor[i]
            m = hazard_mult[i]
            if bounded and te >= 0.0 and h >= 0.0 and m >= 0.0 and u[i] >= ((h * most) * cap) * m:
                h = 0.0  # quiet, but its overflow slot has closed
            else:
                h = h * (1.0 + excess * _exp(-te / early_weeks))
                h *= _min(_exp(weight * (intention[i] - ref)), cap)
                h = h * m
        if u[i] < h or (ov and not o):
            leaving[k] = i
            k += 1
            nf += 1  # the slot is about to be left
        else:
            nf += (not held) | agency_worker[i]
    return leaving[:k].copy(), open_overflow, nf


@njit(cache=True)
def turnover_moves(is_post: np.ndarray, staff: np.ndarray, partner: np.ndarray, staff_post: np.ndarray,
                   filled: np.ndarray, agency_worker: np.ndarray, vacant_since: np.ndarray, week: int,
                   u_fill: np.ndarray, fill_hazard: float, open_overflow: np.ndarray, u_agency_worker: np.ndarray,
                   cost: np.ndarray, headroom: float,
                   pars: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Turnover's moves after the week's exits, decided at once in one pass over the slots: permanent hires to posts
    waiting long enough, the agency workers they replace, partner refills, and the agency cover the headroom pays
    for (`affordable`) among the slots still empty once the hires and refills are in (the reference looks for cover
    after those joins, whose only effect on what it reads is that their slots are filled). Returns the replaced
    agency workers, the permanent joiners (hires, then refills, each in slot order), the agency joiners and the
    cover refused."""
    return _moves_over(np.arange(filled.size), is_post, staff, partner, staff_post, filled, agency_worker,
                       vacant_since, week, u_fill, fill_hazard, open_overflow, u_agency_worker, cost, headroom, pars)


@njit(cache=True)
def _moves_over(slots: np.ndarray, is_post: np.ndarray, staff: np.ndarray, partner: np.ndarray,
                staff_post: np.ndarray, filled: np.ndarray, agency_worker: np.ndarray, vacant_since: np.ndarray,
                week: int, u_fill: np.ndarray, fill_hazard: float, open_overflow: np.ndarray,
                u_agency_worker: np.ndarray, cost: np.ndarray, headroom: float,
                pars: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """`turnover_moves` over `slots` (in order), which must hold every slot without a permanent holder: the
    others are passed over in any case."""
    p = pars[0]
    min_weeks, refill_hazard = int(p.recruitment_min_weeks), p.partner_refill_hazard
    cover, cover_hazard = p.agency_worker_cover != 0.0, p.agency_worker_cover_hazard
    n = slots.size
    arrive = np.empty(n, np.int64)
    replaced = np.empty(n, np.int64)
    refill = np.empty(n, np.int64)
    cand = np.empty(n, np.int64)
    a = r = f = c = 0
    # each list written at its end for every slot and lengthened by the slot's flag: no branch per slot (which of
    # these slots are empty, posts or held by agency workers is scattered over them); a permanent holder's slot is
    # in none of the lists
    for i in slots:
        held, ag = filled[i], agency_worker[i]
        free = (not held) | ag
        arr = free & is_post[i] & staff[i] & (week - vacant_since[i] >= min_weeks) & (u_fill[i] < fill_hazard)
        arrive[a] = i
        a += arr
        replaced[r] = i
        r += arr & ag
        ref = free & partner[i] & (not held) & (u_fill[i] < refill_hazard)
        refill[f] = i
        f += ref
        cv = (not (held | arr | ref)) & ((staff_post[i] & cover) | open_overflow[i])
        cand[c] = i
        c += cv & (u_agency_worker[i] < cover_hazard)
    joining = np.empty(a + f, np.int64)
    joining[:a] = arrive[:a]
    joining[a:] = refill[:f]
    k = affordable(cost, cand[:c], headroom)
    return replaced[:r].copy(), joining, cand[:k].copy(), c - k


@njit(cache=True)
def affordable(cost: np.ndarray, candidates: np.ndarray, headroom: float) -> int:
    """How many candidates, in order, the headroom pays for: `searchsorted(cumsum(cost[candidates]), headroom,
    side="right")` (numpy's cumsum is sequential, so the running sum is the same bits)."""
    total = 0.0
    for k in range(candidates.size):
        total += cost[candidates[k]]
        if total > headroom:
            return k
    return candidates.size


# -------------------------------------------------------------------------------- numpy's distributions


@njit(cache=True)
def gamma_beta(g: Any, a: float, b: float) -> float:
    """numpy's Beta draw when a shape exceeds 1 (numpy's `random_beta` then takes two standard gammas, which numba
    ports exactly). With both shapes at most 1 numpy uses Johnk's algorithm, whose handling of underflow has changed
    between numpy versions (numba's port is an older one): the callers draw those in numpy itself."""
    ga = random_standard_gamma(g, a)
    gb = random_standard_gamma(g, b)
    return ga / (ga + gb)


_LOGGAM = np.array([8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04, -5.952380952380952e-04,
                    8.417508417508418e-04, -1.917526917526918e-03, 6.410256410256410e-03, -2.955065359477124e-02,
                    1.796443723688307e-01, -1.39243221690590e+00])  # Zhang & Jin's log-gamma series, as numpy's


@njit(cache=True)
def _loggam(x: float) -> float:
    """numpy's log-gamma for the Poisson acceptance test (Zhang & Jin 1996), with numpy's operations in its order."""
    if x == 1.0 or x == 2.0:
        return 0.0
    n = 0
    x0 = x
    if x <= 7.0:
        n = int(7 - x)
        x0 = x + n
    x2 = 1.0 / (x0 * x0)
    gl0 = _LOGGAM[9]
    for k in range(8, -1, -1):
        gl0 *= x2
        gl0 += _LOGGAM[k]
    gl = gl0 / x0 + 0.5 * math.log(2 * math.pi) + (x0 - 0.5) * math.log(x0) - x0
    if x <= 7.0:
        for _ in range(n):
            gl -= math.log(x0 - 1.0)
            x0 -= 1.0
    return gl


@njit(cache=True)
def poisson(g: Any, lam: float) -> int:
    """numpy's Poisson draw: multiplication of uniforms below a mean of 10 (numba's port), Hoermann's transformed
    rejection (PTRS, 1993) above it. numba's own PTRS truncates the candidate toward zero where numpy floors it, and
    so accepts a 0 that numpy rejects about once in 10^4-10^5 draws at means of 10-15; this one floors. The mean's
    log and 1/alpha are worked out only when the quick acceptance fails (about one candidate in seven), not for
    every draw (the same values: they depend on the mean alone)."""
    if lam < 10:
        return 0 if lam == 0 else random_poisson_mult(g, lam)
    slam = math.sqrt(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = next_double(g) - 0.5
        v = next_double(g)
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        loglam = math.log(lam)
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= (-lam + k * loglam - _loggam(k + 1)):
            return k


@njit(cache=True)
def _pcg_fill(st: np.ndarray, out: np.ndarray, lo_after: np.ndarray, hi_after: np.ndarray) -> None:
    """`out.size` doubles of numpy's PCG64 (its `random()`) from the state and increment in `st` (words: state low,
    high, increment low, high), stepped in four interleaved lanes as `_uniforms` steps them; the state after each
    draw in `lo_after`, `hi_after`, and after the last in st[0], st[1]."""
    n = out.size
    lo, hi, clo, chi = st[0], st[1], st[2], st[3]
    h1, l1, h2, l2, h3, l3, h4, l4, ah, al, ch, cl = _four_lanes(hi, lo, chi, clo)
    b = 0
    while b + 4 <= n:
        out[b], lo_after[b], hi_after[b] = _pcg_double(h1, l1), l1, h1
        out[b + 1], lo_after[b + 1], hi_after[b + 1] = _pcg_double(h2, l2), l2, h2
        out[b + 2], lo_after[b + 2], hi_after[b + 2] = _pcg_double(h3, l3), l3, h3
        out[b + 3], lo_after[b + 3], hi_after[b + 3] = _pcg_double(h4, l4), l4, h4
        h1, l1 = _pcg_step(h1, l1, ah, al, ch, cl)
        h2, l2 = _pcg_step(h2, l2, ah, al, ch, cl)
        h3, l3 = _pcg_step(h3, l3, ah, al, ch, cl)
        h4, l4 = _pcg_step(h4, l4, ah, al, ch, cl)
        b += 4
    if b < n:
        out[b], lo_after[b], hi_after[b] = _pcg_double(h1, l1), l1, h1
    if b + 1 < n:
        out[b + 1], lo_after[b + 1], hi_after[b + 1] = _pcg_double(h2, l2), l2, h2
    if b + 2 < n:
        out[b + 2], lo_after[b + 2], hi_after[b + 2] = _pcg_double(h3, l3), l3, h3
    if n > 0:
        st[0], st[1] = lo_after[n - 1], hi_after[n - 1]


_RUN = 1024  # uniforms made at a time for the Poisson draws


@njit(cache=True)
def poisson_draws(streams: np.ndarray, row: int, lam: np.ndarray, out: np.ndarray) -> None:
    """out[k] = `poisson`(lam[k]) for each k in turn from row `row` of the stream table, numpy's draws to the bit,
    the stream left where numpy leaves it. For numpy's PCG64 whose state the table found (`_uniforms`), the
    uniforms are made ahead in runs (`_pcg_fill`: the same states in the same order, with no call per draw) and the
    state is set to the one after the last uniform used; each draw is `poisson`'s on those uniforms in the same
    order (below a mean of 10 `random_poisson_mult`'s loop, numba's port of numpy's, written out)."""
    if not _pcg_found(streams, row):
        g = _stream(streams, row)
        for k in range(lam.size):
            out[k] = poisson(g, lam[k])
        return
    address = _word(streams[row, 0], 0)
    st = np.empty(4, np.uint64)
    st[0], st[1], st[2], st[3] = _word(address, 0), _word(address, 1), _word(address, 2), _word(address, 3)
    buf = np.empty(_RUN)
    lo_after = np.empty(_RUN, np.uint64)
    hi_after = np.empty(_RUN, np.uint64)
    at = _RUN  # the place of the next uniform in the run (none made yet)
    made = False
    for k in range(lam.size):
        x = lam[k]
        if x < 10:
            if x == 0:
                out[k] = 0
                continue
            enlam = _exp(-x)
            draws = 0
            prod = 1.0
            while True:
                if at == _RUN:
                    _pcg_fill(st, buf, lo_after, hi_after)
                    at = 0
                    made = True
                prod *= buf[at]
                at += 1
                if prod > enlam:
                    draws += 1
                else:
                    break
            out[k] = draws
            continue
        slam = math.sqrt(x)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            if at >= _RUN - 1:  # two uniforms from one run: the one left, if any, comes first in the next
                if at == _RUN - 1:
                    buf[0] = buf[at]
                    lo_after[0], hi_after[0] = lo_after[at], hi_after[at]
                    _pcg_fill(st, buf[1:], lo_after[1:], hi_after[1:])
                else:
                    _pcg_fill(st, buf, lo_after, hi_after)
                at = 0
                made = True
            u = buf[at] - 0.5
            v = buf[at + 1]
            at += 2
            us = 0.5 - abs(u)
            c = math.floor((2 * a / us + b) * u + x + 0.43)
            if us >= 0.07 and v <= vr:
                break
            if c < 0 or (us < 0.013 and v > us):
                continue
            loglam = math.log(x)
            invalpha = 1.1239 + 1.1328 / (b - 3.4)
            if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= (-x + c * loglam
                                                                                    - _loggam(c + 1)):
                break
        out[k] = c
    if made:  # the state after the last uniform used
        _set_word(address, 0, lo_after[at - 1])
        _set_word(address, 1, hi_after[at - 1])


# ----------------------------------------------------------------------------------------- people moving


@njit(cache=True)
def _log_rows(log: np.ndarray, at: int, slots: np.ndarray, role: np.ndarray, agency_worker: np.ndarray,
              tenure: np.ndarray) -> None:
    """The event log's rows from `at` for people joining or leaving: slot, role, agency worker, tenure."""
    for k in range(slots.size):
        i = slots[k]
        log[at + k, 0] = i
        log[at + k, 1] = role[i]
        log[at + k, 2] = 1.0 if agency_worker[i] else 0.0
        log[at + k, 3] = tenure[i]


@njit(cache=True)
def _leave(slots: np.ndarray, log: np.ndarray, at: int, role: np.ndarray, agency_worker: np.ndarray,
           tenure: np.ndarray, staff: np.ndarray, vacant_since: np.ndarray, week: float, indptr: np.ndarray,
           indices: np.ndarray, twins: np.ndarray, w: np.ndarray, nb: np.ndarray, exposure: np.ndarray,
           leave_arrays: tuple, leave_values: np.ndarray, filled: np.ndarray) -> int:
    """Host.leave(slots) with the standard listeners: the event log's rows from `at` (slot, role, agency worker,
    tenure, before anything changes), Turnover.on_leave (`turnover_leave`), Relationships.on_leave (`cut_ties`,
    with the twin table `twins` if not empty), then the declared on-leave values and the slots empty. Returns the
    permanent leavers."""
    _log_rows(log, at, slots, role, agency_worker, tenure)
    for slot in slots:
        for e in range(indptr[slot], indptr[slot + 1]):
            j = indices[e]
            exposure[j] += w[e] / _max(nb[j, 2], 1e-9)
    permanent = 0
    for slot in slots:
        if staff[slot] and not agency_worker[slot]:
            vacant_since[slot] = week
            permanent += 1
    _cut_ties(indptr, indices, twins, w, slots)
    for slot in slots:
        for a in range(len(leave_arrays)):
            leave_arrays[a][slot] = leave_values[a]
        filled[slot] = False
        agency_worker[slot] = False
    return permanent


@njit(cache=True)
def _join(slots: np.ndarray, agency: bool, log: np.ndarray, at: int, role: np.ndarray, filled: np.ndarray,
          agency_worker: np.ndarray, tenure: np.ndarray, hire_arrays: tuple, hire_values: np.ndarray,
          indptr: np.ndarray, indices: np.ndarray, twins: np.ndarray, w: np.ndarray, new_strength: float,
          partner: np.ndarray, habit: np.ndarray, culture: Any, hire: np.ndarray) -> None:
    """Host.join(slots) with the standard listeners: occupancy and the declared on-hire values,
    Relationships.on_join (`join_ties`, with the twin table `twins` if not empty), Culture.on_join (hires' habits drawn
    from the labour market's Beta in slot order, as numpy draws them, by `gamma_beta`; partner workers take their
    agency's), then the event log's rows from `at`."""
    for slot in slots:
        filled[slot] = True
        agency_worker[slot] = agency
        for a in range(len(hire_arrays)):
            hire_arrays[a][slot] = hire_values[a]
    _join_ties(indptr, indices, twins, w, filled, slots, new_strength)
    h = hire[0]
    for slot in slots:
        if partner[slot]:
            habit[slot] = h.partner_habit
        elif h.fixed != 0.0:
            habit[slot] = h.mean
        else:
            habit[slot] = gamma_beta(culture, h.a, h.b)
    _log_rows(log, at, slots, role, agency_worker, tenure)


@njit(cache=True)
def people_week(streams: np.ndarray, intention: np.ndarray, tenure: np.ndarray, leaver_exposure: np.ndarray,
                morale: np.ndarray, workload: np.ndarray, role_factor: np.ndarray, hazard_mult: np.ndarray,
                agency_worker: np.ndarray, partner: np.ndarray, base_hazard: float, filled: np.ndarray,
                overflow: np.ndarray, overflow_open: np.ndarray, team: np.ndarray, overflow_rank: np.ndarray,
                overflow_share: float, is_post: np.ndarray, staff: np.ndarray, staff_post: np.ndarray,
                vacant_since: np.ndarray, week: int, fill_hazard: float, cost: np.ndarray, headroom: float,
                role: np.ndarray, indptr: np.ndarray, indices: np.ndarray, twins: np.ndarray, w: np.ndarray,
                nb: np.ndarray,
                leave_arrays: tuple, leave_values: np.ndarray, hire_arrays: tuple, hire_values: np.ndarray,
                habit: np.ndarray, new_strength: float, pars: np.ndarray,
                hire: np.ndarray) -> tuple[np.ndarray, int, int, int, int, int, int]:
    """Turnover's whole week with its joins and leaves, for the standard listeners (turnover, relationships,
    culture): the week's uniforms from the turnover and recruitment streams (rows 0 and 1 of `streams`; of
    recruitment's, only those the moves read: `_uniforms_at`), exits (`_exits`, as `turnover_week`) and their
    leaves, the moves after them over the slots without a permanent holder (`_moves_over`, as `turnover_moves`),
    the replaced agency workers' leaves, then the permanent joiners' and the agency cover's joins with the hires'
    habits from the culture stream (row 2), each step in the reference's order. Returns the week's event log (one
    row per move: slot, role, agency worker, tenure; exits, replaced agency workers, permanent joiners, agency
    cover), the four counts, the permanent leavers and the agency cover refused."""
    n = filled.size
    u = np.empty(n)
    _uniforms(streams, 0, u)
    u_fill = np.empty(n)
    u_agency_worker = np.empty(n)
    apart = streams[0, 0] != streams[1, 0]  # turnover's and recruitment's streams are two generators
    if not apart:
        _uniforms(streams, 1, u_fill)
        _uniforms(streams, 1, u_agency_worker)
    free = np.empty(n, np.int64)
    leaving, open_overflow, nf = _exits(intention, tenure, leaver_exposure, morale, workload, role_factor,
                                        hazard_mult, agency_worker, partner, base_hazard, filled, u, overflow,
                                        overflow_open, team, overflow_rank, overflow_share, pars, free)
    if apart:  # recruitment's two runs, drawn after the exits: only the places the moves read are worked out
        _uniforms_at(streams, 1, free[:nf], u_fill, u_agency_worker)
    exits = np.empty((leaving.size, 4))
    wk = float(week)
    permanent = _leave(leaving, exits, 0, role, agency_worker, tenure, staff, vacant_since, wk, indptr, indices,
                       twins, w, nb, leaver_exposure, leave_arrays, leave_values, filled)
    # the moves look only at slots without a permanent holder
    replaced, joining, cover, refused = _moves_over(free[:nf], is_post, staff, partner, staff_post, filled,
                                                    agency_worker, vacant_since, week, u_fill, fill_hazard,
                                                    open_overflow, u_agency_worker, cost, headroom, pars)
    nl, nr, nj, nc = leaving.size, replaced.size, joining.size, cover.size
    log = np.empty((nl + nr + nj + nc, 4))
    log[:nl] = exits
    permanent += _leave(replaced, log, nl, role, agency_worker, tenure, staff, vacant_since, wk, indptr, indices,
                        twins, w, nb, leaver_exposure, leave_arrays, leave_values, filled)
    culture = _stream(streams, 2)
    _join(joining, False, log, nl + nr, role, filled, agency_worker, tenure, hire_arrays, hire_values, indptr,
          indices, twins, w, new_strength, partner, habit, culture, hire)
    _join(cover, True, log, nl + nr + nj, role, filled, agency_worker, tenure, hire_arrays, hire_values, indptr,
          indices, twins, w, new_strength, partner, habit, culture, hire)
    return log, nl, nr, nj, nc, permanent, refused


@njit(cache=True)
def team_referrals(cases: np.ndarray, capacity: np.ndarray, referral_rate: np.ndarray,
                   gatekeeping: float) -> np.ndarray:
    """Referrals each team accepts this week on average: thresholds rise with the team's overload."""
    out = np.empty(cases.size)
    for t in range(cases.size):
        overload = _max(cases[t] / _max(capacity[t], 1e-9) - 1.0, 0.0)
        out[t] = referral_rate[t] / (1.0 + gatekeeping * overload)
    return out


@njit(cache=True)
def team_cases_update(cases: np.ndarray, capacity: np.ndarray, referrals: np.ndarray, pace: np.ndarray,
                      case_duration: float) -> tuple[float, float]:
    """New cases in, worked cases closed; returns the total open cases and those above capacity (numpy sums)."""
    t = cases.size
    held = np.empty(t)
    for k in range(t):
        worked = _min(cases[k], capacity[k])
        closures = worked * pace[k] / case_duration
        cases[k] += referrals[k] - closures
    for k in range(t):
        held[k] = _min(cases[k], capacity[k])
    total = 0.0 + _pairwise(cases, 0, t)
    return total, total - (0.0 + _pairwise(held, 0, t))


@njit(cache=True)
def _time_and_capacity(habit: np.ndarray, extra_recording: np.ndarray, change_load: np.ndarray,
                       time_cost: np.ndarray, productivity: np.ndarray, direct_time: np.ndarray,
                       capacity: np.ndarray, recording_base: float, recording_per_compliance: float, other_time: float,
                       change_time_per_load: float, sickness_absence: float, min_direct_time: float,
                       reference_direct_time: float, direct_time_elasticity: float, capacity_cases: float) -> None:
    """Each slot's direct time and its capacity before the novice factor: (direct time / reference) ** e as numpy
    computes it (`_scalar_power`: exact fast paths for e in {0.5, 1, 2}), the exponent's case chosen once, each
    case one loop without branches, which is compiled to vector instructions (the same operations lane by lane,
    so the same bits)."""
    n = habit.size
    e, scale = direct_time_elasticity, reference_direct_time
    if e == 2.0:
        for i in range(n):
            d = _direct(habit, extra_recording, change_load, time_cost, i, recording_base, recording_per_compliance,
                        other_time, change_time_per_load, sickness_absence, min_direct_time)
            direct_time[i] = d
            x = d / scale
            capacity[i] = (x * x) * (capacity_cases * productivity[i])
    elif e == 1.0:
        for i in range(n):
            d = _direct(habit, extra_recording, change_load, time_cost, i, recording_base, recording_per_compliance,
                        other_time, change_time_per_load, sickness_absence, min_direct_time)
            direct_time[i] = d
            capacity[i] = (d / scale) * (capacity_cases * productivity[i])
    elif e == 0.5:
        for i in range(n):
            d = _direct(habit, extra_recording, change_load, time_cost, i, recording_base, recording_per_compliance,
                        other_time, change_time_per_load, sickness_absence, min_direct_time)
            direct_time[i] = d
            capacity[i] = math.sqrt(d / scale) * (capacity_cases * productivity[i])
    else:
        for i in range(n):
            d = _direct(habit, extra_recording, change_load, time_cost, i, recording_base, recording_per_compliance,
                        other_time, change_time_per_load, sickness_absence, min_direct_time)
            direct_time[i] = d
            capacity[i] = ((d / scale) ** e) * (capacity_cases * productivity[i])


@njit(cache=True)
def _direct(habit: np.ndarray, extra_recording: np.ndarray, change_load: np.ndarray, time_cost: np.ndarray, i: int,
            recording_base: float, recording_per_compliance: float, other_time: float, change_time_per_load: float,
            sickness_absence: float, min_direct_time: float) -> float:
    """Slot i's share of time with children and families (Workload.update_capacity's operations in its order)."""
    recording = recording_base + recording_per_compliance * habit[i] + extra_recording[i]
    used = other_time + recording + change_time_per_load * change_load[i] + time_cost[i]
    d = 1.0 - used
    d *= 1.0 - sickness_absence
    return _max(d, min_direct_time)


@njit(cache=True)
def _novice_known(novice_penalty: float, agency_worker_novice_penalty: float, induction_weeks: float) -> bool:
    """Whether the novice factor 1 - novice lies in (0, 1] for every tenure of 0 or more (`_with_novice`)."""
    return 0.0 <= novice_penalty < 1.0 and 0.0 <= agency_worker_novice_penalty < 1.0 and induction_weeks > 0.0


@njit(cache=True)
def _with_novice(cap: float, holds: bool, agency: bool, tenure: float, known: bool, agency_worker_novice_penalty: float,
                 novice_penalty: float, induction_weeks: float) -> float:
    """A slot's capacity: `cap` times its novice factor, times 1.0 if it holds cases, else 0.0. Where it holds none
    the factor's `exp` is not worked out when the factor is known to lie in (0, 1] (`known` and a tenure of 0 or
    more): (c * f) * 0.0 and c * 0.0 are then the same bits for every c (a zero of c's sign for a finite c, as
    c * f cannot overflow and keeps c's sign; NaN for an infinite or NaN c)."""
    if holds or not (known and tenure >= 0.0):
        novice = agency_worker_novice_penalty if agency else novice_penalty
        novice = novice * math.exp(-tenure / induction_weeks)
        cap *= 1.0 - novice
    return cap * (1.0 if holds else 0.0)


@njit(cache=True)
def novice_exp_table(induction_weeks: float, size: int) -> np.ndarray:
    """exp(-k / induction_weeks) for whole weeks k = 0 .. size-1: the novice factor's exp of every tenure in whole
    weeks (a hire's: 0 at the join, +1.0 a week, exact), by the same call on the same argument (-float(k) is
    -tenure bit for bit), so an entry is the exp `_with_novice` works out, to the bit."""
    out = np.empty(size)
    for k in range(size):
        out[k] = math.exp(-float(k) / induction_weeks)
    return out


@njit(cache=True)
def _novice_exps(frontline: np.ndarray, filled: np.ndarray, tenure: np.ndarray, known: bool, induction_weeks: float,
                 table: np.ndarray, ex: np.ndarray) -> None:
    """ex[i] := the exp `_with_novice` works out for slot i, wherever it works one out (elsewhere a value never
    used), without a branch per slot: looked up in `table` (`novice_exp_table`, at least one entry) for a tenure
    in whole weeks within it, worked out for the other slots that need it, listed first."""
    n = tenure.size
    last = table.size - 1.0
    rest = np.empty(n, np.int64)
    r = 0
    for i in range(n):
        te = tenure[i]
        need = (frontline[i] & filled[i]) | (not (known & (te >= 0.0)))
        k = int(_clip(te, 0.0, last))  # a place in the table for every tenure (NaN: 0), without a branch
        ex[i] = table[k]
        rest[r] = i
        r += need & (float(k) != te)  # the tenure is not that whole number of weeks: worked out below
    for j in range(r):
        i = rest[j]
        ex[i] = _exp(-tenure[i] / induction_weeks)


@njit(cache=True)
def _novice_select(cap: float, holds: bool, agency: bool, tenure: float, known: bool,
                   agency_worker_novice_penalty: float, novice_penalty: float, ex: float) -> float:
    """`_with_novice` given its exp `ex` (`_novice_exps`), without a branch: where it works the factor out, the same
    operations on the same values (novice * 1.0 is novice); elsewhere `known` holds, so both penalties lie in
    [0, 1) and `ex` (a table entry, in [0, 1]: exp(-k / w) may underflow to 0.0) is finite, novice * 0.0 is +0.0
    and the factor 1.0 - 0.0 is 1.0, and c * 1.0 is c for every c. Flags enter as the numbers 1.0 and 0.0, so no
    choice is left to a branch."""
    novice = (agency_worker_novice_penalty if agency else novice_penalty) * ex
    works = holds | (not (known & (tenure >= 0.0)))
    return (cap * (1.0 - novice * float(int(works)))) * float(int(holds))


@njit(cache=True)
def _novice_capacity(capacity: np.ndarray, frontline: np.ndarray, filled: np.ndarray, agency_worker: np.ndarray,
                     tenure: np.ndarray, known: bool, agency_worker_novice_penalty: float, novice_penalty: float,
                     induction_weeks: float, table: np.ndarray) -> None:
    """capacity[i] = `_with_novice`(capacity[i], ...) for every slot, without a branch per slot (`_novice_exps`,
    `_novice_select`)."""
    ex = np.empty(capacity.size)
    _novice_exps(frontline, filled, tenure, known, induction_weeks, table, ex)
    for i in range(capacity.size):
        capacity[i] = _novice_select(capacity[i], frontline[i] & filled[i], agency_worker[i], tenure[i], known,
                                     agency_worker_novice_penalty, novice_penalty, ex[i])


@njit(cache=True)
def workload_capacity(habit: np.ndarray, extra_recording: np.ndarray, change_load: np.ndarray,
                      time_cost: np.ndarray, agency_worker: np.ndarray, tenure: np.ndarray, productivity: np.ndarray,
                      frontline: np.ndarray, filled: np.ndarray, direct_time: np.ndarray, capacity: np.ndarray,
                      recording_base: float, recording_per_compliance: float, other_time: float,
                      change_time_per_load: float, sickness_absence: float, min_direct_time: float,
                      agency_worker_novice_penalty: float, novice_penalty: float, induction_weeks: float,
                      reference_direct_time: float, direct_time_elasticity: float, capacity_cases: float) -> None:
    """Workload.update_capacity: time use and capacity per slot from habit, change load and learning curves
    (`_time_and_capacity`, then each slot's novice factor and whether it holds cases: `_with_novice`)."""
    _time_and_capacity(habit, extra_recording, change_load, time_cost, productivity, direct_time, capacity,
                       recording_base, recording_per_compliance, other_time, change_time_per_load, sickness_absence,
                       min_direct_time, reference_direct_time, direct_time_elasticity, capacity_cases)
    known = _novice_known(novice_penalty, agency_worker_novice_penalty, induction_weeks)
    for i in range(habit.size):
        capacity[i] = _with_novice(capacity[i], frontline[i] and filled[i], agency_worker[i], tenure[i], known,
                                   agency_worker_novice_penalty, novice_penalty, induction_weeks)


@njit(cache=True)
def workload_allocate(team: np.ndarray, frontline: np.ndarray, filled: np.ndarray, capacity: np.ndarray,
                      team_cases: np.ndarray, workload: np.ndarray, caseload: np.ndarray,
                      sustained_pressure: np.ndarray, smoothing_weeks: float) -> np.ndarray:
    """Workload.allocate: each team's cases shared by capacity; returns the teams' capacity."""
    team_capacity = np.zeros(team_cases.size)
    for i in range(team.size):
        if frontline[i]:
            team_capacity[team[i]] += capacity[i]
    _share(team, frontline, filled, capacity, team_cases, team_capacity, workload, caseload, sustained_pressure,
           smoothing_weeks)
    return team_capacity


@njit(cache=True)
def _share(team: np.ndarray, frontline: np.ndarray, filled: np.ndarray, capacity: np.ndarray, team_cases: np.ndarray,
           team_capacity: np.ndarray, workload: np.ndarray, caseload: np.ndarray, sustained_pressure: np.ndarray,
           smoothing_weeks: float) -> None:
    """Workload.allocate given the teams' capacity: each case holder's workload, caseload and sustained pressure."""
    t = team_cases.size
    ratio = np.empty(t)
    for k in range(t):
        ratio[k] = team_cases[k] / _max(team_capacity[k], 1e-9)
    n = team.size
    for i in range(n):  # times 1.0 or 0.0 as a number, not a choice: no branch on scattered holders
        workload[i] = ratio[max(team[i], 0)] * float(int(frontline[i] & filled[i]))
    # the rest reads no team: a loop of its own is compiled to vector instructions (the same operations lane by lane)
    for i in range(n):
        wl = workload[i]
        caseload[i] = wl * capacity[i]
        excess = _max(wl - 1.0, 0.0)
        sustained_pressure[i] += (excess - sustained_pressure[i]) / smoothing_weeks


@njit(cache=True)
def workload_referrals(habit: np.ndarray, extra_recording: np.ndarray, change_load: np.ndarray,
                       time_cost: np.ndarray, agency_worker: np.ndarray, tenure: np.ndarray, productivity: np.ndarray,
                       frontline: np.ndarray, filled: np.ndarray, direct_time: np.ndarray, capacity: np.ndarray,
                       cases: np.ndarray, team_capacity: np.ndarray, referral_rate: np.ndarray,
                       pars: np.ndarray) -> np.ndarray:
    """Workload.step up to its random draw: `workload_capacity`, then the mean referrals (`team_referrals`)."""
    p = pars[0]
    workload_capacity(habit, extra_recording, change_load, time_cost, agency_worker, tenure, productivity, frontline,
                      filled, direct_time, capacity, p.recording_base, p.recording_per_compliance, p.other_time,
                      p.change_time_per_load, p.sickness_absence, p.min_direct_time, p.agency_worker_novice_penalty,
                      p.novice_penalty, p.induction_weeks, p.reference_direct_time, p.direct_time_elasticity,
                      p.capacity_cases)
    return team_referrals(cases, team_capacity, referral_rate, p.gatekeeping)


@njit(cache=True)
def workload_cases(team: np.ndarray, frontline: np.ndarray, filled: np.ndarray, productivity: np.ndarray,
                   learning_live: bool, cases: np.ndarray, team_capacity: np.ndarray, referrals: np.ndarray,
                   capacity: np.ndarray, workload: np.ndarray, caseload: np.ndarray, sustained_pressure: np.ndarray,
                   pars: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Workload.step after its random draw: each team's pace (`team_pace`, 1 before any system goes live), its
    cases (`team_cases_update`: total and backlog) and their allocation (`workload_allocate`: new team capacity)."""
    p = pars[0]
    t = cases.size
    pace = team_pace(team, frontline, filled, productivity, t) if learning_live else np.ones(t)
    total, backlog = team_cases_update(cases, team_capacity, referrals, pace, p.case_duration_weeks)
    new_capacity = workload_allocate(team, frontline, filled, capacity, cases, workload, caseload, sustained_pressure,
                                     p.pressure_smoothing_weeks)
    return total, backlog, new_capacity


# numpy's largest Poisson mean (numpy/random/_common.pyx): int64's largest value less ten times its square root
POISSON_LAM_MAX = float(np.iinfo(np.int64).max - np.sqrt(np.iinfo(np.int64).max) * 10)


@njit(cache=True)
def workload_week(streams: np.ndarray, habit: np.ndarray, extra_recording: np.ndarray, change_load: np.ndarray,
                  time_cost: np.ndarray, agency_worker: np.ndarray, tenure: np.ndarray, productivity: np.ndarray,
                  frontline: np.ndarray, filled: np.ndarray, direct_time: np.ndarray, capacity: np.ndarray,
                  team: np.ndarray, learning_live: bool, cases: np.ndarray, team_capacity: np.ndarray,
                  referral_rate: np.ndarray, workload: np.ndarray, caseload: np.ndarray,
                  sustained_pressure: np.ndarray, lam: np.ndarray, new_capacity: np.ndarray,
                  pars: np.ndarray, novice_exp: np.ndarray) -> tuple[bool, float, float]:
    """Workload.step in one call: what `workload_referrals` does (the mean referrals into `lam`), with the teams' pace
    and their new capacity (into `new_capacity`) taken in the capacity's last pass over the slots; the teams' Poisson
    referrals drawn from the workload stream (row 0 of `streams`) in team order as numpy draws them; then what
    `workload_cases` does. Returns whether the week ran, the open cases and the backlog: a mean numpy would refuse
    (negative, NaN or too large) stops the week before any draw, so the caller can raise numpy's own error."""
    p = pars[0]
    _time_and_capacity(habit, extra_recording, change_load, time_cost, productivity, direct_time, capacity,
                       p.recording_base, p.recording_per_compliance, p.other_time, p.change_time_per_load,
                       p.sickness_absence, p.min_direct_time, p.reference_direct_time, p.direct_time_elasticity,
                       p.capacity_cases)
    pen_a, pen, weeks = p.agency_worker_novice_penalty, p.novice_penalty, p.induction_weeks
    known = _novice_known(pen, pen_a, weeks)
    # each slot's capacity (`workload_capacity`), and in the same pass the teams' new capacity (Workload.allocate's
    # sum, in slot order) and their case holders' productivity (`team_pace`): capacity does not change in between
    t = lam.size
    new_capacity[:] = 0.0
    held = np.zeros(t + 1, np.int64)
    prod = np.zeros(t + 1)
    _novice_capacity(capacity, frontline, filled, agency_worker, tenure, known, pen_a, pen, weeks, novice_exp)
    for i in range(team.size):
        if frontline[i]:  # a regular pattern of roles within teams: predicted; which posts are filled is not
            k = team[i]
            new_capacity[k] += capacity[i]
            if learning_live:
                # an empty post's count goes to an extra last entry, never read: a choice of place, which is a
                # conditional move, where a choice of value would be a branch
                at = k if filled[i] else t
                held[at] += 1
                prod[at] += productivity[i]
    lam[:] = team_referrals(cases, team_capacity, referral_rate, p.gatekeeping)
    for k in range(t):
        if not lam[k] >= 0.0 or lam[k] > POISSON_LAM_MAX:
            return False, 0.0, 0.0
    referrals = np.empty(t, np.int64)
    poisson_draws(streams, 0, lam, referrals)
    pace = np.ones(t)
    if learning_live:
        for k in range(t):
            pace[k] = prod[k] / max(held[k], 1) if held[k] > 0 else 1.0
    total, backlog = team_cases_update(cases, team_capacity, referrals, pace, p.case_duration_weeks)
    _share(team, frontline, filled, capacity, cases, new_capacity, workload, caseload, sustained_pressure,
           p.pressure_smoothing_weeks)
    return True, total, backlog


@njit(cache=True)
def team_pace(team: np.ndarray, frontline: np.ndarray, filled: np.ndarray, productivity: np.ndarray,
              n_teams: int) -> np.ndarray:
    """Workload.team_pace: each team's case holders' mean productivity (1 for a team without any)."""
    n = np.zeros(n_teams, np.int64)
    tot = np.zeros(n_teams)
    for i in range(team.size):
        if frontline[i] and filled[i]:
            n[team[i]] += 1
            tot[team[i]] += productivity[i]
    out = np.empty(n_teams)
    for k in range(n_teams):
        out[k] = tot[k] / max(n[k], 1) if n[k] > 0 else 1.0
    return out


# ------------------------------------------------------------------------------------------- recorder

# positions in the vector `weekly_stats` returns (the per-slot reductions behind the weekly series)
STATS = ("n_staff", "morale_mean", "morale_p10", "morale_p90", "habit_mean", "habit_high", "manager_control",
         "intention_mean", "n_posts", "permanent", "agency_workers", "n_holders", "workload_mean",
         "direct_time_mean", "change_load_mean", "filled_permanent")


@njit(cache=True)
def _select(a: np.ndarray, kth: int) -> float:
    """Quickselect in place: a[kth] becomes the value a sorted copy holds there, with no larger value before it and
    no smaller one after (what np.partition guarantees, without its argument checks and copies)."""
    lo, hi = 0, a.size - 1
    while hi > lo:
        mid = (lo + hi) >> 1
        if a[mid] < a[lo]:  # median of three as the pivot
            a[mid], a[lo] = a[lo], a[mid]
        if a[hi] < a[lo]:
            a[hi], a[lo] = a[lo], a[hi]
        if a[hi] < a[mid]:
            a[hi], a[mid] = a[mid], a[hi]
        pivot = a[mid]
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if kth <= j:
            hi = j
        elif kth >= i:
            lo = i
        else:  # between the two halves: every value there equals the pivot
            break
    return a[kth]


@njit(cache=True)
def _quantile(v: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile of v (outputs._quantiles) from the two order statistics it needs, found by
    selection in linear time instead of a sort (the same two values, so the same bits)."""
    k = v.size
    pos = q * (k - 1)
    lo = int(pos)
    part = v.copy()
    v_lo = _select(part, lo)
    v_hi = v_lo
    if lo + 1 < k:  # the next order statistic: the smallest of those the selection put above v_lo
        v_hi = part[lo + 1]
        for i in range(lo + 2, k):
            if part[i] < v_hi:
                v_hi = part[i]
    return v_lo + (v_hi - v_lo) * (pos - lo)


_BUCKETS = 2048


@njit(cache=True)
def _bucket(x: float) -> np.int64:
    """One of 2048 buckets of [0, 1] (values outside it in the end buckets, NaN in the first), in value order:
    x < y gives _bucket(x) <= _bucket(y), since x * 2048 is exact, and clamping and truncation keep order."""
    return np.int64(_min(_max(x * 2048.0, 0.0), 2047.0))


@njit(cache=True)
def _rank_bucket(count: np.ndarray, r: int, start: int, below: int) -> tuple[int, int]:
    """The bucket holding the r-th smallest value, and how many values the buckets below it hold; the scan starts at
    bucket `start`, below which `below` values lie (at most r of them: the answer is not below `start`)."""
    for b in range(start, count.size):
        if below + count[b] > r:
            return b, below
        below += count[b]
    return count.size - 1, below


@njit(cache=True)
def _order_pair(part: np.ndarray, r: int, has_next: bool) -> tuple[float, float]:
    """The r-th smallest value of `part` and the next one (the same again without one), by selection in place: after
    it every value past r is at least the r-th, so the next is their minimum."""
    v_lo = _select(part, r)
    v_hi = v_lo
    if has_next:
        v_hi = part[r + 1]
        for i in range(r + 2, part.size):
            if part[i] < v_hi:
                v_hi = part[i]
    return v_lo, v_hi


@njit(cache=True)
def _deciles(v: np.ndarray, out: np.ndarray) -> None:
    """The 10th and 90th percentiles of v (each as `_quantile`) into out[0] and out[1]. Values are counted by
    `_bucket`; a bucket's values lie above every lower bucket's, so the order statistics needed are selected among
    the values of the few buckets that hold them (the same values as a selection among all, in a fraction of its
    time). NaN has no place in that order: with any, both are selected among all, as `_quantile` does."""
    k = v.size
    bucket = np.empty(k, np.uint16)
    count = np.zeros(_BUCKETS, np.int64)
    nan = 0
    for i in range(k):
        x = v[i]
        b = _bucket(x)
        bucket[i] = b
        count[b] += 1
        nan += x != x
    _counted_deciles(v, bucket, count, nan, out)


@njit(cache=True)
def _counted_deciles(v: np.ndarray, bucket: np.ndarray, count: np.ndarray, nan: int, out: np.ndarray) -> None:
    """`_deciles` given each value's bucket, the buckets' counts and the number of NaN (counted by the caller, e.g.
    as it gathers the values: one pass fewer)."""
    k = v.size
    if nan:
        out[0] = _quantile(v, 0.1)
        out[1] = _quantile(v, 0.9)
        return
    pos1, pos2 = 0.1 * (k - 1), 0.9 * (k - 1)
    lo1, lo2 = int(pos1), int(pos2)
    # each scan goes on from the bucket of a lower rank (lo1 <= lo1 + 1, lo1 <= lo2 <= lo2 + 1): one walk up the buckets
    a1, base1 = _rank_bucket(count, lo1, 0, 0)
    b1 = _rank_bucket(count, min(lo1 + 1, k - 1), a1, base1)[0]
    a2, base2 = _rank_bucket(count, lo2, a1, base1)
    b2 = _rank_bucket(count, min(lo2 + 1, k - 1), a2, base2)[0]
    apart = a2 > b1  # else the two ranges meet: one gathering, the 90th percentile selected above the 10th
    if not apart:
        b1 = b2
    n1 = n2 = 0
    for b in range(a1, b1 + 1):
        n1 += count[b]
    for b in range(a2, b2 + 1):
        n2 += count[b]
    part1 = np.empty(n1)
    part2 = np.empty(n2 if apart else 0)
    j1 = j2 = 0
    for i in range(k):
        b = np.int64(bucket[i])
        if a1 <= b <= b1:
            part1[j1] = v[i]
            j1 += 1
        elif a2 <= b <= b2:
            part2[j2] = v[i]
            j2 += 1
    r1 = lo1 - base1
    v1, w1 = _order_pair(part1, r1, lo1 + 1 < k)
    if apart:
        v2, w2 = _order_pair(part2, lo2 - base2, lo2 + 1 < k)
    elif lo2 == lo1:
        v2, w2 = v1, w1
    else:  # after the first selection part1[r1 + 1:] holds the order statistics above r1
        v2, w2 = _order_pair(part1[r1 + 1:], lo2 - base1 - r1 - 1, lo2 + 1 < k)
    out[0] = v1 + (w1 - v1) * (pos1 - lo1)
    out[1] = v2 + (w2 - v2) * (pos2 - lo2)


@njit(cache=True)
def _gathered_mean(v: np.ndarray, at: np.ndarray) -> float:
    """The mean of v at the slots `at` (in slot order) as numpy's `v[mask].mean()`: `_tree` walked over the values
    read through `at`, so no buffer of them is made (the same additions in the same order)."""
    return (0.0 + _tree(v, at, 0, at.size)) / at.size


@njit(cache=True)
def weekly_stats(staff: np.ndarray, filled: np.ndarray, frontline: np.ndarray, manager: np.ndarray,
                 staff_post: np.ndarray, agency_worker: np.ndarray, morale: np.ndarray, habit: np.ndarray,
                 manager_control: np.ndarray, intention: np.ndarray, workload: np.ndarray,
                 direct_time: np.ndarray, change_load: np.ndarray, high_habit: float) -> np.ndarray:
    """Every per-slot reduction the weekly series need, bit-identical to outputs.Observation. One pass over the slots
    lists the staff in post (in slot order, as numpy's masks take them); the case holders and the managers in post,
    staff themselves, are listed from it (a pass over the staff in post, not over every slot); each series is then
    summed through its list as numpy sums it (`_gathered_mean`), and the staff's morale is counted into the deciles'
    buckets as it is gathered. The passes do not branch on who is in post: each slot is written at its list's next
    place, and the place moves on by 1 or 0 (after a restructure the posts held are scattered and such branches
    mispredicted, once per pass per series as it was). Case holders or managers outside the staff (never in a model)
    are listed over every slot, as before."""
    n = staff.size
    out = np.full(len(STATS), np.nan)
    at_s = np.empty(n + 1, np.uint32)
    k = n_posts = permanent = agency = high = outside = 0
    for i in range(n):  # the counts: a loop of its own, which the compiler turns into vector operations
        f = filled[i]
        n_posts += staff_post[i]
        permanent += staff_post[i] & f & (agency_worker[i] == 0)
        agency += staff[i] & agency_worker[i]
        high += staff[i] & f & (habit[i] > high_habit)
        outside += (frontline[i] | manager[i]) & (staff[i] == 0)
    for i in range(n):  # the staff in post
        at_s[k] = i
        k += staff[i] & filled[i]
    h = g = 0
    if outside:
        at_h = np.empty(n + 1, np.uint32)
        at_g = np.empty(n + 1, np.uint32)
        for i in range(n):
            f = filled[i]
            at_h[h] = i
            h += frontline[i] & f
            at_g[g] = i
            g += manager[i] & f
    else:  # the case holders and the managers in post, in slot order, among the staff in post
        at_h = np.empty(k + 1, np.uint32)
        at_g = np.empty(k + 1, np.uint32)
        for j in range(k):
            i = at_s[j]
            at_h[h] = i
            h += frontline[i]
            at_g[g] = i
            g += manager[i]
    out[0] = max(k, 1)
    if k > 0:
        at = at_s[:k]
        mor = np.empty(k)  # staff's morale, for its mean and deciles, counted into the deciles' buckets as it comes
        bucket = np.empty(k, np.uint16)
        count = np.zeros(_BUCKETS, np.int64)
        nan = 0
        for j in range(k):
            x = morale[at[j]]
            mor[j] = x
            b = _bucket(x)
            bucket[j] = b
            count[b] += 1
            nan += x != x
        out[1] = (0.0 + _pairwise(mor, 0, k)) / k
        _counted_deciles(mor, bucket, count, nan, out[2:4])
        out[4] = _gathered_mean(habit, at)
        out[7] = _gathered_mean(intention, at)
        out[14] = _gathered_mean(change_load, at)
    out[5] = high / max(k, 1)
    if g > 0:
        out[6] = _gathered_mean(manager_control, at_g[:g])
    out[8] = max(n_posts, 1)
    out[9] = permanent
    out[10] = agency
    out[11] = h
    if h > 0:
        out[12] = _gathered_mean(workload, at_h[:h])
        out[13] = _gathered_mean(direct_time, at_h[:h])
    out[15] = permanent
    return out


# positions in the vector `weekly_series` returns: the output catalogue's own weekly series, in catalogue order
SERIES_KEYS = ("morale_mean", "morale_p10", "morale_p90", "compliance_habit_mean", "compliance_habit_high_share",
               "manager_control", "turnover_intention", "turnover_rate_12m", "vacancy_rate", "agency_worker_share",
               "headcount", "leavers", "joiners", "caseload_mean", "workload_mean", "time_with_children",
               "service_standard", "backlog", "fragmentation", "fragmentation_team", "fragmentation_interagency",
               "change_load", "pace", "prescription", "cost_week", "agency_worker_cost_week",
               "intervention_cost_week", "cost_cumulative", "overspend", "shortfall", "agency_worker_hires_refused")
# positions in the vector of organisation-wide numbers `weekly_series` is given (signals and running totals)
SCALAR_KEYS = ("leavers", "joiners", "service_standard", "backlog", "pace", "prescription", "cost_week",
               "agency_worker_cost_week", "intervention_cost_week", "cost_cumulative", "overspend", "shortfall",
               "agency_worker_hires_refused")


@njit(cache=True)
def weekly_series(staff: np.ndarray, filled: np.ndarray, frontline: np.ndarray, manager: np.ndarray,
                  staff_post: np.ndarray, agency_worker: np.ndarray, morale: np.ndarray, habit: np.ndarray,
                  manager_control: np.ndarray, intention: np.ndarray, workload: np.ndarray,
                  direct_time: np.ndarray, change_load: np.ndarray, high_habit: float, leavers_ring: np.ndarray,
                  filled_ring: np.ndarray, team_cases: np.ndarray, fragmentation: np.ndarray,
                  scalars: np.ndarray, ring_at: int) -> np.ndarray:
    """One recorded week's catalogue series (SERIES_KEYS) in one call, each with the same IEEE operations as its
    `compute` in model/outputs.py; `scalars` holds the organisation-wide numbers in SCALAR_KEYS order. `ring_at` >= 0:
    this week's permanent holders go into `filled_ring[ring_at]` before the 12-month turnover reads the ring."""
    st = weekly_stats(staff, filled, frontline, manager, staff_post, agency_worker, morale, habit, manager_control,
                      intention, workload, direct_time, change_load, high_habit)
    if ring_at >= 0:
        filled_ring[ring_at] = st[9]
    v = np.empty(len(SERIES_KEYS))
    v[0] = st[1]
    v[1] = st[2]
    v[2] = st[3]
    v[3] = st[4]
    v[4] = st[5]
    v[5] = st[6]
    v[6] = st[7]
    ring_mean = (0.0 + _pairwise(filled_ring, 0, filled_ring.size)) / filled_ring.size
    v[7] = (0.0 + _pairwise(leavers_ring, 0, leavers_ring.size)) / _max(ring_mean, 1.0)
    v[8] = (st[8] - st[9]) / st[8]
    v[9] = st[10] / _max(st[10] + st[9], 1.0)
    v[10] = st[0]
    v[11] = scalars[0]
    v[12] = scalars[1]
    v[13] = (0.0 + _pairwise(team_cases, 0, team_cases.size)) / _max(st[11], 1.0)
    v[14] = st[12]
    v[15] = st[13]
    v[16] = scalars[2]
    v[17] = scalars[3]
    v[18] = fragmentation[2]
    v[19] = fragmentation[0]
    v[20] = fragmentation[1]
    v[21] = st[14]
    for i in range(4, len(SCALAR_KEYS)):
        v[18 + i] = scalars[i]
    return v


@njit(cache=True)
def record_series(out: np.ndarray, cols: np.ndarray, pos: np.ndarray, staff: np.ndarray, filled: np.ndarray,
                  frontline: np.ndarray, manager: np.ndarray, staff_post: np.ndarray, agency_worker: np.ndarray,
                  morale: np.ndarray, habit: np.ndarray, manager_control: np.ndarray, intention: np.ndarray,
                  workload: np.ndarray, direct_time: np.ndarray, change_load: np.ndarray, high_habit: float,
                  leavers_ring: np.ndarray, filled_ring: np.ndarray, ring_at: int, team_cases: np.ndarray,
                  fragmentation: np.ndarray, scalars: np.ndarray) -> None:
    """`weekly_series`, each series written straight into its column `cols[k]` of the record's row `out` (the
    series at `pos[k]` of SERIES_KEYS). With `ring_at` >= 0 the week's permanent holders of staff posts (the
    Recorder's `tick`, `count_permanent`) go into `filled_ring[ring_at]` first, counted in the same pass as the
    series' own count of them (the same number)."""
    v = weekly_series(staff, filled, frontline, manager, staff_post, agency_worker, morale, habit, manager_control,
                      intention, workload, direct_time, change_load, high_habit, leavers_ring, filled_ring, team_cases,
                      fragmentation, scalars, ring_at)
    for k in range(cols.size):
        out[cols[k]] = v[pos[k]]


@njit(cache=True)
def count_permanent(staff_post: np.ndarray, filled: np.ndarray, agency_worker: np.ndarray) -> int:
    """Permanent holders of staff posts (the 12-month turnover's denominator, counted every week); counted without a
    branch on who is in post (`and` would branch on each slot, and posts held are scattered)."""
    k = 0
    for i in range(filled.size):
        k += staff_post[i] & filled[i] & (agency_worker[i] == 0)
    return k


@njit(cache=True)
def agency_workers(agency_worker: np.ndarray, is_post: np.ndarray) -> tuple[int, int]:
    """Agency workers in established posts and in overflow slots (Leadership.committed's two counts), counted without
    a branch on who is an agency worker (they are scattered over the slots)."""
    in_posts = workers = 0
    for i in range(agency_worker.size):
        workers += agency_worker[i]
        in_posts += agency_worker[i] & is_post[i]
    return in_posts, workers - in_posts
