"""Plain-text reports for the CLI: the run summary and the case overview."""

from __future__ import annotations

import time

import pandas as pd

from .network import EXTERNAL, Network


def _fmt(x: float, unit: str = "") -> str:
    """A figure with an SI prefix and two decimals; what rounds to zero prints as a plain 0."""
    a = abs(x)
    if a < 0.005:
        return "0"
    if a >= 1e12:
        s = f"{x / 1e12:,.2f} T"
    elif a >= 1e9:
        s = f"{x / 1e9:,.2f} G"
    elif a >= 1e6:
        s = f"{x / 1e6:,.2f} M"
    elif a >= 1e3:
        s = f"{x / 1e3:,.2f} k"
    else:
        s = f"{x:,.2f} "
    return s + unit


def summary_text(s: dict) -> str:
    per = s.get("periods")
    span = f"{s['start']}  {s['hours']} h" if not per else \
        f"{per['count']} x {per['hours_each']} h representative periods ({per['method']}) for " \
        f"{s['represented_hours']:g} h: figures below are for the whole span"
    lines = [f"{s['case']} / {s['scenario']}  {span}  status {s['status']}",
             f"  LP {s['rows']:,} rows x {s['columns']:,} columns, {s['nonzeros']:,} nonzeros; "
             f"build {s['build_seconds']:.2f} s, solve {s['solve_seconds']:.2f} s",
             f"  objective            {_fmt(s['objective_cny'], 'CNY')}  (cost {_fmt(s['cost_total_cny'], 'CNY')}"
             f" + penalties {_fmt(s['penalties_total_cny'], 'CNY')}"
             + (f" + investment {_fmt(s['investment_cny'], 'CNY')}" if s.get("capacity_built") else "") + ")"]
    for k, v in s["cost_cny"].items():
        if abs(v) > 0.5:
            lines.append(f"    {k:<32}{_fmt(v, 'CNY')}")
    for k, v in s["penalties_cny"].items():
        if abs(v) > 0.5:
            lines.append(f"    penalty {k:<24}{_fmt(v, 'CNY')}")
    tonnes = lambda d: ", ".join(f"{r} {_fmt(v, 't')}" for r, v in d.items())
    em = "  emissions            " + tonnes(s["emissions_t"])
    if s.get("emissions_imported_t"):  # by importing region, as gridopt.formulation.emissions attributes them
        em += f"; imported {tonnes(s['emissions_imported_t'])}"
        em += f" (carbon price covers {s['carbon_price_covers']})" if "carbon_price_covers" in s else ""
    lines.append(em)
    total = sum(v for k, v in s["generation_mwh"].items())
    lines.append("  generation by carrier (share of all production incl. imports)")
    for c, v in sorted(s["generation_mwh"].items(), key=lambda kv: -kv[1]):
        if v > 0.5:
            lines.append(f"    {c:<22}{_fmt(v * 1e6, 'Wh')}"
                         f"  {100 * v / max(total, 1e-9):5.1f} %")
    shed = s["load_shed_mwh"]
    lines.append(f"  load shed            {_fmt(shed['total'] * 1e6, 'Wh')} (interruptible {_fmt(shed['interruptible'] * 1e6, 'Wh')},"
                 f" firm {_fmt(shed['firm'] * 1e6, 'Wh')}) of {_fmt(s['load_mwh'] * 1e6, 'Wh')} load")
    if s["curtailment_mwh"]:
        lines.append("  curtailment          " + ", ".join(f"{c} {_fmt(v * 1e6, 'Wh')}" for c, v in s["curtailment_mwh"].items()))
    lines.append(f"  spill                {s['spill_hm3']:,.1f} hm3")
    if s.get("interchange_regions"):
        a, b = s["interchange_regions"]
        lines.append(f"  {a}->{b} interchange {_fmt(s['interchange_sc_to_cq_mwh'] * 1e6, 'Wh')}")
    lines.append("  mean price           " + ", ".join(f"{r} {v:,.1f} CNY/MWh" for r, v in s["mean_price_cny_per_mwh"].items()))
    for k, v in s["carbon_shadow_price_cny_per_t"].items():
        lines.append(f"  shadow carbon price  {k}: {v:,.2f} CNY/t")
    built = s.get("capacity_built", {})
    if built:
        grown = s.get("capacity_changed", {})
        n = sum(len(v) for v in built.values())
        k = sum(len(v) for v in grown.values())
        lines.append(f"  capacity decided: {k} of {n} extendable elements changed (capacities.parquet: existing, "
                     "optimal, value per unit)")
        for comp, elements in grown.items():
            unit = {"pipelines": "Mm3/day", "gas_storages": "Mm3", "stores": "MWh"}.get(comp, "MW")
            lines += [f"    {comp:<14}{name:<28}{a:>12,.1f} -> {b:,.1f} {unit}" for name, (a, b) in elements.items()]
    return "\n".join(lines)


def capacity_table(net: Network) -> pd.DataFrame:
    """Installed capacity (MW) in service by region and carrier, next to published totals."""
    buses = net.tables["buses"]["region"]
    rows = []
    for comp, carrier in (("generators", None), ("reservoirs", "hydro"), ("storage_units", None)):
        df = net.active(comp)
        if not len(df):
            continue
        car = df["carrier"] if carrier is None else pd.Series(carrier, index=df.index)
        rows.append(pd.DataFrame({"region": df["bus"].map(buses).to_numpy(), "carrier": car.to_numpy(),
                                  "p_nom": df["p_nom"].to_numpy()}))
    if not rows:
        return pd.DataFrame(columns=["region", "carrier", "case_mw", "published_mw"])
    cap = pd.concat(rows).groupby(["region", "carrier"])["p_nom"].sum()
    pub = net.config.get("published_capacity_mw", {})
    out = []
    for region in sorted(set(cap.index.get_level_values(0)) | set(pub)):
        mine = cap.xs(region) if region in cap.index.get_level_values(0) else pd.Series(dtype=float)
        published = pub.get(region, {})
        for carrier in sorted(set(mine.index) | set(published)):
            parts = mine.index if carrier == "total" else carrier.split("+")
            value = float(mine.reindex(parts).sum()) if len(mine.reindex(parts).dropna()) else float("nan")
            out.append({"region": region, "carrier": carrier, "case_mw": value,
                        "published_mw": published.get(carrier, float("nan"))})
    return pd.DataFrame(out, columns=["region", "carrier", "case_mw", "published_mw"])


def info_text(net: Network, hours: int = 24) -> str:
    t = net.tables
    snaps = net.snapshots
    lines = [f"{net.name}: {net.config.get('description', '')}".rstrip(": "),
             f"  scenario {net.scenario}; year {net.config['year']}; series {snaps[0]} .. {snaps[-1]} ({len(snaps)} h)",
             f"  regions: {', '.join(net.regions)}; scenarios: {', '.join(net.scenarios) or 'none'}"]
    reg = t["buses"]["region"].value_counts()
    lines.append("  buses: " + ", ".join(f"{r} {n}" for r, n in reg.items()))
    for comp in ("lines", "transformers", "links", "generators", "reservoirs", "storage_units", "stores", "markets",
                 "interfaces", "gas_nodes", "gas_supplies", "pipelines", "gas_storages", "gas_demands"):
        n_all = len(t[comp])
        if n_all:
            n_act = int(net.is_active(comp).sum())
            extra = f" ({n_all - n_act} not in service in {net.config['year']})" if n_act < n_all else ""
            lines.append(f"  {comp}: {n_act}{extra}")
    cap = capacity_table(net)
    lines.append("  installed capacity in service, MW (published total for comparison)")
    lines.append(f"    {'region':<12}{'carrier':<18}{'case':>12}{'published':>12}{'ratio':>8}")
    for _, r in cap.iterrows():
        pub = r["published_mw"]
        ratio = f"{r['case_mw'] / pub:8.2f}" if pd.notna(pub) and pub > 0 and pd.notna(r["case_mw"]) else ""
        case = f"{r['case_mw']:12,.0f}" if pd.notna(r["case_mw"]) else f"{'-':>12}"
        pubs = f"{pub:12,.0f}" if pd.notna(pub) else f"{'':>12}"
        lines.append(f"    {r['region']!s:<12}{r['carrier']!s:<18}{case}{pubs}{ratio}")
    from .formulation import build_lp
    t0 = time.perf_counter()
    h = min(hours, len(snaps))
    ctx = build_lp(net, hours=h)
    size = ctx.lp.size_info()
    lines.append(f"  LP for {h} h: {size['rows']:,} rows, {size['columns']:,} columns, {size['nonzeros']:,} nonzeros"
                 f" (built in {time.perf_counter() - t0:.2f} s)")
    ext = (t["buses"]["region"] == EXTERNAL).sum()
    if ext:
        lines.append(f"  external buses (outside all regions): {', '.join(t['buses'].index[t['buses']['region'] == EXTERNAL])}")
    return "\n".join(lines)
