"""The registry of sized benchmark cases.

A case names a network (the shipped Sichuan–Chongqing case, or a synthetic N-bus network) and a horizon.
Cases carry tags: ``quick`` (the CI smoke), ``standard`` (what ``python -m benchmarks`` runs by default)
``long`` (June's month, a quarter and a full year as one LP; run on demand with ``--cases``) and ``pypsa``
(plain synthetic networks that PyPSA receives as the same LP, for ``--compare pypsa``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SHIPPED = "sichuan_chongqing"
SHIPPED_START = "2025-01-01 00:00"  # first hour of the shipped series (China Standard Time)


@dataclass(frozen=True)
class Case:
    """One sized case: `kind` is 'shipped' or 'synthetic'; synthetic cases give `n_buses` and `seed`."""

    name: str
    kind: str
    hours: int
    start: str | None = None
    n_buses: int = 0
    seed: int = 0
    tags: frozenset[str] = field(default_factory=frozenset)
    plain: bool = False  # synthetic without what PyPSA models differently: the same LP in both tools
    overlay: str = ""  # a file in benchmarks/scenarios/ applied to the shipped case (e.g. extendable circuits)
    periods: str = ""  # representative periods of the shipped year, as `gridopt run --periods`

    def network(self):
        """The case's network (loading the shipped case, or generating the synthetic one)."""
        if self.kind == "shipped":
            import gridopt
            net = gridopt.load_case(SHIPPED)
            if self.overlay:
                from pathlib import Path

                from gridopt.overlay import read_overlay
                path = Path(__file__).parent / "scenarios" / f"{self.overlay}.toml"
                net = net.with_overlay(read_overlay(path), name=self.overlay, file=str(path))
            if self.periods:
                from gridopt.periods import with_periods
                net = with_periods(net, self.periods)
            return net
        from gridopt.synthetic import synthetic_network
        if not self.plain:
            return synthetic_network(self.n_buses, self.hours, seed=self.seed)
        return plain_network(synthetic_network(self.n_buses, self.hours, seed=self.seed, reservoirs_per_bus=0))

    def describe(self) -> str:
        if self.kind == "shipped":
            if self.periods:
                return f"{SHIPPED}, the year 2025 as {self.periods} ({self.hours} h)"
            return f"{SHIPPED}, {self.hours} h from {self.start}" + (f", overlay {self.overlay}" if self.overlay else "")
        plain = ", plain (no reservoirs, commitment, reserves)" if self.plain else ""
        return f"synthetic {self.n_buses} buses x {self.hours} h (seed {self.seed}){plain}"


def plain_network(net):
    """The synthetic network reduced to what gridopt and PyPSA model identically: coal without commitment
    (dispatchable from zero), no reserve requirement, no curtailment penalty; the caller leaves reservoirs
    out. Written by gridopt's PyPSA exporter it gives PyPSA the same LP, which the benchmark checks by
    comparing the objectives."""
    from dataclasses import replace
    g = net.tables["generators"].copy()
    g["committable"] = False
    g["p_min_pu"] = 0.0
    config = {**net.config, "reserves": {}, "penalties": {**net.config["penalties"], "curtailment_cny_per_mwh": 0.0}}
    return replace(net, tables={**net.tables, "generators": g}, config=config)


def _shipped(hours: int, *tags: str, start: str = SHIPPED_START, suffix: str = "", overlay: str = "") -> Case:
    return Case(f"shipped_{hours}h{suffix}", "shipped", hours, start=start, tags=frozenset(tags), overlay=overlay)


def _periods(spec: str) -> Case:
    from gridopt.periods import PERIOD_HOURS, parse_periods
    method, k, extremes = parse_periods(spec)
    name = "shipped_year_" + spec.replace("typical-days:", "days").replace("weeks:", "weeks").replace("+", "_")
    return Case(name, "shipped", (k + len(extremes)) * PERIOD_HOURS[method], start=None,
                tags=frozenset({"periods"}), periods=spec)


def _synthetic(n: int, hours: int, *tags: str, seed: int = 0, plain: bool = False) -> Case:
    return Case(f"syn_{n}x{hours}" + ("_plain" if plain else ""), "synthetic", hours, start=None, n_buses=n, seed=seed,
                tags=frozenset(tags), plain=plain)


CASES: dict[str, Case] = {c.name: c for c in (
    _synthetic(4, 24, "quick"),
    _shipped(24, "quick", "standard"),
    _shipped(168, "standard"),
    _shipped(720, "standard"),
    _shipped(720, "long", start="2025-06-01 00:00", suffix="_june"),  # wet season: reservoirs refill
    # refill season: the 30 Sep plan is out of reach beside the export contracts, so the end target is missed
    _shipped(1440, "long", start="2025-08-01 00:00", suffix="_augsep"),
    _shipped(2190, "long"),
    # an August week as dispatched, and with the Sichuan-Chongqing circuits extendable (expansion LP)
    _shipped(168, "expansion", start="2025-08-04 00:00", suffix="_aug"),
    _shipped(168, "expansion", start="2025-08-04 00:00", suffix="_aug_expand", overlay="expand_sc_cq_week"),
    _shipped(8760, "long"),
    # the shipped year over representative periods (one LP each), against the hourly year's optimum
    *(_periods(p) for p in ("typical-days:8", "typical-days:16", "typical-days:32", "weeks:4", "weeks:8")),
    _synthetic(30, 168, "standard"),
    _synthetic(60, 168, "standard"),
    _synthetic(30, 720, "standard"),
    _synthetic(10, 2190, "standard"),
    _synthetic(4, 24, "pypsa", plain=True),
    _synthetic(30, 168, "pypsa", plain=True),
    _synthetic(60, 168, "pypsa", plain=True),
    _synthetic(30, 720, "pypsa", plain=True),
)}


def select(names: list[str] | None = None, tag: str | None = None) -> list[Case]:
    """Cases by name (in the order given) or by tag (in registry order)."""
    if names:
        unknown = [n for n in names if n not in CASES]
        if unknown:
            raise KeyError(f"unknown case(s): {', '.join(unknown)} (known: {', '.join(CASES)})")
        return [CASES[n] for n in names]
    return [c for c in CASES.values() if tag is None or tag in c.tags]
