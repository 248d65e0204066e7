"""The organisation: posts in teams under managers, partner agencies, and the working-relationship network.

Slots are numbered team by team (manager, frontline posts, overflow slots) and then partner
agencies, so that the people who work together are adjacent in memory for the sparse products.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from pydantic import field_validator

from culturedrift.model import kernels
from culturedrift.model.base import Strict, param
from culturedrift.model.state import FRONTLINE, MANAGER, PARTNER

INTRA_TEAM, CROSS_TEAM, INTER_AGENCY, PARTNER_INTERNAL = 0, 1, 2, 3


class OrganisationParams(Strict):
    n_teams: int = param(20, "teams", "A mid-size English authority: ~200 case-holding social workers (DfE workforce "
                         "census, FTE by authority)", ge=1, le=200_000)
    team_size: int = param(10, "frontline posts per team", "Typical span of a team manager (6-10 social workers)",
                           ge=2, le=40)
    overflow_slots_per_team: int = param(2, "slots per team", "Supernumerary agency slots a caseload cap may open "
                                         "(assumption)", ge=0, le=20)
    partner_agencies: dict[str, int] = param({"police": 20, "health": 30, "education": 30}, "people per agency",
                                             "Partner staff in regular contact with children's social care "
                                             "(assumption; gives a 300-person system with the defaults)")
    cross_team_ties: int = param(2, "ties per frontline worker", "Sparse ties across teams (assumption)",
                                 ge=0, le=20)
    partner_ties: int = param(3, "ties per frontline worker", "Inter-agency working relationships: a police, "
                              "health and school contact each (assumption)", ge=0, le=20)
    manager_peer_ties: int = param(4, "ties per manager", "Managers' peer network (assumption)", ge=0, le=50)
    partner_internal_ties: int = param(4, "ties per partner worker", "Colleagues within a partner agency "
                                       "(assumption)", ge=0, le=50)

    @field_validator("partner_agencies")
    @classmethod
    def _agencies(cls, v: dict[str, int]) -> dict[str, int]:
        for k, n in v.items():
            if not 0 <= n <= 100_000:
                raise ValueError(f"partner agency '{k}' must have between 0 and 100,000 people, got {n}")
        return v


class Layout:
    """Who holds which post: role, team and partner agency per slot."""

    def __init__(self, p: OrganisationParams) -> None:
        per_team = 1 + p.team_size + p.overflow_slots_per_team
        n_staff = p.n_teams * per_team
        n_partner = sum(p.partner_agencies.values())
        n = n_staff + n_partner
        self.n_teams = p.n_teams
        self.overflow_slots_per_team = p.overflow_slots_per_team
        self.partner_agency_names = list(p.partner_agencies)
        local = np.tile(np.arange(per_team), p.n_teams)
        self.role = np.full(n, PARTNER, np.int8)
        self.role[:n_staff] = np.where(local == 0, MANAGER, FRONTLINE)
        self.team = np.full(n, -1, np.int32)
        self.team[:n_staff] = np.repeat(np.arange(p.n_teams), per_team)
        self.is_post = np.ones(n, bool)
        self.is_post[:n_staff] = local <= p.team_size
        self.partner_group = np.full(n, -1, np.int32)
        self.partner_group[n_staff:] = np.repeat(np.arange(len(p.partner_agencies)),
                                                 list(p.partner_agencies.values()))
        self.manager_slot = np.arange(p.n_teams) * per_team


def _pairs_within(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All unordered pairs of slots sharing a group label (groups >= 0)."""
    idx = np.flatnonzero(groups >= 0)
    order = idx[np.argsort(groups[idx], kind="stable")]
    g = groups[order]
    bounds = np.flatnonzero(np.diff(np.r_[-1, g, -2]))
    src, dst = [], []
    sizes = np.diff(bounds)
    for size in np.unique(sizes):
        if size < 2:
            continue
        starts = bounds[:-1][sizes == size]
        iu, ju = np.triu_indices(size, 1)
        src.append((starts[:, None] + iu[None, :]).ravel())
        dst.append((starts[:, None] + ju[None, :]).ravel())
    if not src:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return order[np.concatenate(src)], order[np.concatenate(dst)]


def _random_ties(frm: np.ndarray, pool: np.ndarray, k: int, rng: np.random.Generator,
                 block: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """k random ties from each slot in `frm` to slots in `pool`, dropping self and same-block ties."""
    if k == 0 or frm.size == 0 or pool.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    src = np.repeat(frm, k)
    dst = pool[rng.integers(0, pool.size, src.size)]
    keep = src != dst
    if block is not None:
        keep &= block[src] != block[dst]
    return src[keep], dst[keep]


# the largest network given a table of twins (`Network.twins`): one byte an entry, 16 MiB at most
TWIN_TABLE_ENTRIES = 2**24


class Network:
    """Symmetric working-relationship network: a CSR matrix whose data are tie strengths in [0, 1].

    Each undirected tie is stored twice (i->j, j->i); `mirror` maps an entry to its twin, `kind`
    says whether it is intra-team, cross-team, inter-agency or within a partner agency.
    """

    def __init__(self, n: int, src: np.ndarray, dst: np.ndarray, kind: np.ndarray,
                 strength: np.ndarray | None = None) -> None:
        self.n = n
        self._build(src, dst, kind, strength)

    def _build(self, src: np.ndarray, dst: np.ndarray, kind: np.ndarray, strength: np.ndarray | None) -> None:
        """The CSR pattern straight from the pairs (a repeated pair keeps its first kind and strength), with
        int32 indices and no per-entry temporaries beyond the pattern itself: at a million staff every
        byte per entry is ~20 MB."""
        index = np.int32 if self.n < 2**31 else np.int64
        src, dst = src.astype(index, copy=False), dst.astype(index, copy=False)  # one compiled signature
        indptr, indices, pair = kernels.csr_from_pairs(self.n, src, dst)
        index = np.int32 if indices.size < 2**31 else np.int64
        data = np.zeros(indices.size) if strength is None else strength[pair].astype(np.float64)
        self.kind = kind[pair].astype(np.int8)
        del pair
        self.mat = sp.csr_array((data, indices, indptr.astype(index)), shape=(self.n, self.n))
        self.mat.sort_indices()  # already sorted: this only records it
        self._mirror: np.ndarray | None = None
        self._twins: np.ndarray | None = None
        self.w = self.mat.data  # view: writing w updates the matrix

    @property
    def col(self) -> np.ndarray:
        """Column (other end) of every stored entry."""
        return self.mat.indices

    @property
    def mirror(self) -> np.ndarray:
        """The twin (j->i) of every stored entry (i->j), made on first use: the compiled path never keeps these
        8 bytes per entry (it reads `twins`, or searches the sorted rows)."""
        if self._mirror is None:
            self._mirror = kernels.mirror_entries(self.mat.indptr, self.mat.indices)
        return self._mirror

    @property
    def twins(self) -> np.ndarray:
        """Each stored entry's twin as its place within the other end's row, one byte an entry
        (`kernels.twin_offsets`), made on first use: a week's compiled joins and leaves read it instead of a binary
        search, whose branches mispredict. Empty (the kernels search) above TWIN_TABLE_ENTRIES entries, where the
        memory matters more, or with a row of more than 255 entries."""
        if self._twins is None:
            ip, ind = self.mat.indptr, self.mat.indices
            small = 0 < ind.size <= TWIN_TABLE_ENTRIES and int(np.diff(ip).max()) <= 255
            self._twins = kernels.twin_offsets(ip, ind) if small else np.zeros(0, np.uint8)
        return self._twins

    @property
    def row(self) -> np.ndarray:
        """Row (this end) of every stored entry, made when asked (not kept: 4 bytes per entry)."""
        ip = self.mat.indptr
        return np.repeat(np.arange(self.n, dtype=ip.dtype), np.diff(ip))

    def row_entries(self, slots: np.ndarray) -> np.ndarray:
        """The stored entries of the rows of `slots` (ties as seen from those slots), vectorised."""
        ip = self.mat.indptr
        start = ip[slots]
        length = ip[np.asarray(slots) + 1] - start
        # concatenated ranges start[i]..start[i]+length[i]: one repeat and one arange, no Python loop
        offsets = np.repeat(start - np.cumsum(length) + length, length)
        return offsets + np.arange(int(length.sum()))

    def entries_of(self, slots: np.ndarray) -> np.ndarray:
        """All stored entries touching `slots` (their rows and the mirrored entries)."""
        rows = self.row_entries(slots)
        return np.concatenate((rows, self.mirror[rows]))

    def strength_by_kind(self) -> np.ndarray:
        """Total tie strength per kind, summed in entry order: the same bits on every machine (a BLAS dot
        product's order depends on the library and the CPU) and no per-kind float masks."""
        return kernels.strength_by_kind(self.w, self.kind, 4)

    def rewire_teams(self, new_team: np.ndarray, new_strength: float, moved_keep: float) -> None:
        """After a restructure, drop ties between former teammates and add ties between new ones."""
        row = self.row
        upper = row < self.col
        src, dst = row[upper], self.col[upper]
        del row
        kind, w = self.kind[upper], self.w[upper]
        keep = kind != INTRA_TEAM
        # former teammates now in different teams become cross-team acquaintances
        moved = (kind == INTRA_TEAM) & (new_team[src] != new_team[dst])
        kind, w = kind.copy(), w.copy()
        kind[moved] = CROSS_TEAM
        w[moved] *= moved_keep
        keep |= moved
        stay = (kind == INTRA_TEAM) & ~moved
        s_new, d_new = _pairs_within(new_team)
        self._build(np.r_[src[keep | stay], s_new], np.r_[dst[keep | stay], d_new],
                    np.r_[kind[keep | stay], np.full(s_new.size, INTRA_TEAM, np.int8)],
                    np.r_[w[keep | stay], np.full(s_new.size, new_strength)])
        # a repeated pair keeps its first occurrence, so surviving pairs keep their strength


def build_network(layout: Layout, p: OrganisationParams, rng: np.random.Generator) -> Network:
    """Dense ties within teams, sparse across teams and managers, inter-agency ties to partners."""
    n = layout.role.size
    frontline = np.flatnonzero(layout.role == FRONTLINE)
    managers = np.flatnonzero(layout.role == MANAGER)
    partners = np.flatnonzero(layout.role == PARTNER)
    parts = [(*_pairs_within(layout.team), INTRA_TEAM),
             (*_random_ties(frontline, frontline, p.cross_team_ties, rng, layout.team), CROSS_TEAM),
             (*_random_ties(managers, managers, p.manager_peer_ties, rng), CROSS_TEAM),
             (*_random_ties(frontline, partners, p.partner_ties, rng), INTER_AGENCY)]
    # partner colleagues: ties inside each agency
    for g in np.unique(layout.partner_group[partners]):
        members = partners[layout.partner_group[partners] == g]
        parts.append((*_random_ties(members, members, p.partner_internal_ties, rng), PARTNER_INTERNAL))
    # slot numbers fit int32 (4 bytes a tie end, not 8), and each part is let go once copied: at a million
    # staff the pairs are ~10 M, so every copy kept alive while the network is built is ~80 MB of peak memory
    index = np.int32 if n < 2**31 else np.int64
    kind = np.concatenate([np.full(a.size, k, np.int8) for a, _, k in parts])
    src = np.concatenate([a.astype(index, copy=False) for a, _, _ in parts])
    dst = np.empty_like(src)
    at = 0
    while parts:
        b = parts.pop(0)[1]
        dst[at:at + b.size] = b
        at += b.size
    return Network(n, src, dst, kind)
