"""Charts of one results folder, as PNG files for a report. Every axis names its unit; names of places,
plants and lines are the case's own (pinyin). A chart whose data the run does not hold (no storage, no gas
network, nothing extendable) is left out; charts that need the case itself (rule curves, the network map,
which lines are 1000 kV) use it where it can be loaded."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .common import TimeAxis, colour, figure, grid, save
from .folders import RunFolder, weighted

UHV_CARRIER = "AC1000"  # the case's carrier of 1000 kV lines; without the case, names starting UHV_


def dispatch_stacks(run: RunFolder, out: Path, axis: TimeAxis) -> list[Path]:
    """Generation stacked by carrier (MW) per region, storage discharge on top, with the region's load."""
    g, pr, st = run.table("generation"), run.table("prices"), run.table("storage")
    files = []
    for region in run.regions():
        gr = g[g["region"] == region]
        stack = gr.pivot_table(index="hour", columns="carrier", values="p_mw", aggfunc="sum").reindex(axis.hours)
        if len(st) and (st["region"] == region).any():
            stack["storage"] = st[st["region"] == region].groupby("hour")["discharge_mw"].sum()
        stack = stack.fillna(0.0).clip(lower=0.0)
        stack = stack.loc[:, stack.sum() > 0]
        stack = stack[stack.sum().sort_values(ascending=False).index]
        load = pr[pr["region"] == region].groupby("hour")["load_mw"].sum().reindex(axis.hours)
        fig = figure(11, 5)
        ax = fig.add_subplot()
        x = axis.x(axis.hours)
        if stack.shape[1]:
            ax.stackplot(x, stack.to_numpy().T, labels=list(stack.columns),
                         colors=[colour(c, i) for i, c in enumerate(stack.columns)], alpha=0.9)
        ax.plot(x, load.to_numpy(), color="black", lw=1.5, label="load")
        ax.set_ylabel("power (MW)")
        ax.set_title(f"Dispatch by carrier: {region}")
        axis.style(ax)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        files.append(save(fig, out / f"dispatch_{_safe(region)}.png"))
    return files


def price_heatmap(run: RunFolder, out: Path, axis: TimeAxis) -> list[Path]:
    """Price (CNY/MWh) of every bus in every hour; buses grouped by region."""
    pr = run.table("prices")
    order = pr.drop_duplicates("bus").sort_values(["region", "bus"])["bus"]
    m = pr.pivot_table(index="bus", columns="hour", values="price_cny_per_mwh").reindex(index=order,
                                                                                          columns=axis.hours)
    fig = figure(12, max(4.0, 0.18 * len(m) + 1.5))
    ax = fig.add_subplot()
    im = ax.imshow(m.to_numpy(), aspect="auto", interpolation="nearest", cmap="viridis")
    ax.set_yticks(range(len(m)), list(m.index), fontsize=7)
    ticks = np.linspace(0, len(axis.hours) - 1, min(8, len(axis.hours))).astype(int)
    ax.set_xticks(ticks, [axis.hours[t].strftime("%m-%d %H:%M") for t in ticks], fontsize=8)
    ax.set_xlabel(axis.label)
    ax.set_ylabel("bus")
    ax.set_title("Nodal prices")
    fig.colorbar(im, ax=ax, label="price (CNY/MWh)")
    return [save(fig, out / "prices_heatmap.png")]


def price_duration(run: RunFolder, out: Path, axis: TimeAxis) -> list[Path]:
    """Load-weighted price of each region per hour, sorted from the highest (weighted hours on x)."""
    pr = run.table("prices")
    w = run.weights()
    fig = figure(9, 5)
    ax = fig.add_subplot()
    for i, region in enumerate(run.regions() + ["external"]):
        sub = pr[pr["region"] == region]
        if not len(sub):
            continue
        load = sub["load_mw"].clip(lower=0.0)
        num = (sub["price_cny_per_mwh"] * load).groupby(sub["hour"]).sum()
        den = load.groupby(sub["hour"]).sum()
        mean = sub.groupby("hour")["price_cny_per_mwh"].mean()
        price = (num / den.where(den > 0)).fillna(mean).sort_values(ascending=False)
        hours = np.cumsum(price.index.map(w).fillna(1.0).to_numpy())
        ax.step(hours, price.to_numpy(), where="pre", label=region, color=f"C{i}")
    ax.set_xlabel("hours at or above the price (h)")
    ax.set_ylabel("price (CNY/MWh)")
    ax.set_title("Price duration curves (load-weighted per region; external: mean of its buses)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return [save(fig, out / "price_duration.png")]


def _uhv_lines(run: RunFolder, net) -> list[str]:
    fl = run.table("flows")
    names = fl.loc[fl["kind"] == "ac", "branch"].unique()
    if net is not None and "carrier" in net.tables["lines"].columns:
        lines = net.tables["lines"]
        uhv = set(lines.index[lines["carrier"].astype(str) == UHV_CARRIER])
        if uhv:
            return [n for n in names if n in uhv]
    return [n for n in names if str(n).startswith("UHV_")]


def _flow_panels(run: RunFolder, axis: TimeAxis, branches: list[str], title: str, links: bool):
    fl = run.table("flows")
    fig, axes = grid(len(branches), cols=3)
    x = axis.x(axis.hours)
    for ax, b in zip(axes, branches):
        f = fl[fl["branch"] == b].set_index("hour").reindex(axis.hours)
        flow = f["forward_mw"] - f["reverse_mw"] if links else f["p0_mw"]
        ax.plot(x, flow.to_numpy(), lw=1.2, color="C0")
        ax.plot(x, f["limit_mw"].to_numpy(), ls="--", lw=0.9, color="C3")
        ax.plot(x, -f["limit_reverse_mw"].to_numpy(), ls="--", lw=0.9, color="C3")
        if links and (f["contract_min_mw"].fillna(0) > 0).any():
            ax.plot(x, f["contract_min_mw"].to_numpy(), ls=":", lw=0.9, color="C2")
        bus0, bus1 = f["bus0"].dropna().iloc[0], f["bus1"].dropna().iloc[0]
        ax.set_title(f"{b}\n{bus0} -> {bus1}", fontsize=8)
        ax.set_ylabel("MW", fontsize=8)
        axis.style(ax, label=False)
        ax.tick_params(labelsize=7)
    for ax in axes[-3:]:
        ax.set_xlabel(axis.label, fontsize=8)
    fig.suptitle(title + " (MW, positive from the first bus to the second; dashed: limits"
                 + ("; dotted: export contract" if links else "") + ")")
    return fig


def uhv_flows(run: RunFolder, out: Path, axis: TimeAxis, net=None) -> list[Path]:
    """Flows on the 1000 kV lines against their ratings."""
    lines = _uhv_lines(run, net)
    if not lines:
        return []
    return [save(_flow_panels(run, axis, lines, "1000 kV UHV AC lines", False), out / "flows_uhv.png")]


def dc_flows(run: RunFolder, out: Path, axis: TimeAxis) -> list[Path]:
    """Power sent on every link (HVDC, back-to-back) against its limits in each direction."""
    fl = run.table("flows")
    if "forward_mw" not in fl.columns:
        return []
    links = list(fl.loc[fl["forward_mw"].notna(), "branch"].unique())
    if not links:
        return []
    return [save(_flow_panels(run, axis, links, "DC and other links", True), out / "flows_dc.png")]


def reservoirs(run: RunFolder, out: Path, axis: TimeAxis, net=None) -> list[Path]:
    """Volume of every reservoir (hm3) against its rule curves and targets, where the case holds them."""
    hy = run.table("hydro")
    if not len(hy):
        return []
    names = list(hy["reservoir"].unique())
    fig, axes = grid(len(names), cols=4, width=16, row_height=2.2)
    x = axis.x(axis.hours)
    curves = {}
    if net is not None:
        for key, style in (("volume_min_rule_hm3", ("C3", "--", "rule min")),
                           ("volume_max_rule_hm3", ("C1", "--", "rule max")),
                           ("volume_target_hm3", ("C2", ":", "target"))):
            if key in net.series:
                curves[key] = (net.series[key].reindex(axis.hours), style)
    for ax, r in zip(axes, names):
        v = hy[hy["reservoir"] == r].set_index("hour")["volume_hm3"].reindex(axis.hours)
        ax.plot(x, v.to_numpy(), lw=1.3, color="C0", label="volume")
        for series, (c, ls, label) in curves.values():
            if r in series.columns:
                ax.plot(x, series[r].to_numpy(dtype=float), color=c, ls=ls, lw=0.9, label=label)
        ax.set_title(r, fontsize=8)
        ax.set_ylabel("hm3", fontsize=8)
        axis.style(ax, label=False)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=6)
    for ax in axes[-4:]:
        ax.set_xlabel(axis.label, fontsize=8)
    fig.suptitle("Reservoir volumes (hm3)" + (" against rule curves" if curves else
                                              " (the case could not be loaded: no rule curves)"))
    return [save(fig, out / "reservoirs.png")]


def storage(run: RunFolder, out: Path, axis: TimeAxis) -> list[Path]:
    """State of charge (MWh) and net output (MW) of every storage unit."""
    st = run.table("storage")
    if not len(st):
        return []
    fig = figure(11, 6.5)
    top, bottom = fig.subplots(2, 1, sharex=True)
    x = axis.x(axis.hours)
    for i, (u, d) in enumerate(st.groupby("unit", sort=False)):
        d = d.set_index("hour").reindex(axis.hours)
        top.plot(x, d["soc_mwh"].to_numpy(), color=f"C{i}", label=u)
        bottom.plot(x, (d["discharge_mw"] - d["charge_mw"]).to_numpy(), color=f"C{i}", label=u)
    top.set_ylabel("state of charge (MWh)")
    bottom.set_ylabel("output (MW, + discharge)")
    top.set_title("Storage")
    axis.style(top, label=False)
    axis.style(bottom)
    top.legend(fontsize=8)
    return [save(fig, out / "storage.png")]


def gas(run: RunFolder, out: Path, axis: TimeAxis) -> list[Path]:
    """Gas storage inventory (Mm3) and the price of gas (CNY per 1000 m3) at every node."""
    gs = run.table("gas")
    if not len(gs):
        return []
    fig = figure(11, 7)
    top, bottom = fig.subplots(2, 1, sharex=True)
    x = axis.x(axis.hours)
    held = gs.groupby("node")["inventory_mm3"].max()
    for i, node in enumerate(held.index[held > 0]):
        d = gs[gs["node"] == node].set_index("hour").reindex(axis.hours)
        top.plot(x, d["inventory_mm3"].to_numpy(), color=f"C{i}", label=node)
    for i, (node, d) in enumerate(gs.groupby("node", sort=False)):
        d = d.set_index("hour").reindex(axis.hours)
        bottom.plot(x, d["price_cny_per_kcm"].to_numpy(), color=f"C{i % 10}", lw=1.0, label=node)
    top.set_ylabel("inventory (Mm3)")
    top.set_title("Gas: storage inventory" + ("" if (held > 0).any() else " (none held)") + " and nodal prices")
    bottom.set_ylabel("price (CNY per 1000 m3)")
    axis.style(top, label=False)
    axis.style(bottom)
    if (held > 0).any():
        top.legend(fontsize=7)
    bottom.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return [save(fig, out / "gas.png")]


CAPACITY_UNITS = (("mw", "MW"), ("mm3_per_day", "Mm3/day"), ("mm3", "Mm3"))


def capacities(run: RunFolder, out: Path, axis: TimeAxis) -> list[Path]:
    """Existing and optimal capacity of every extendable element, one panel per unit."""
    cap = run.table("capacities")
    if not len(cap) or "extendable" not in cap.columns or not cap["extendable"].any():
        return []
    ext = cap[cap["extendable"].astype(bool)]
    panels = [(k, u) for k, u in CAPACITY_UNITS if f"optimal_{k}" in ext.columns and ext[f"optimal_{k}"].notna().any()]
    fig = figure(11, max(3.5, 0.35 * len(ext) + 2))
    axes = fig.subplots(1, len(panels), squeeze=False).ravel()
    for ax, (k, unit) in zip(axes, panels):
        d = ext[ext[f"optimal_{k}"].notna()]
        y = np.arange(len(d))
        ax.barh(y - 0.2, d[f"existing_{k}"].fillna(0.0), height=0.4, label="existing", color="C7")
        ax.barh(y + 0.2, d[f"optimal_{k}"], height=0.4, label="optimal", color="C0")
        ax.set_yticks(y, [f"{c}: {e}" for c, e in zip(d["component"], d["element"])], fontsize=7)
        ax.set_xlabel(f"capacity ({unit})")
        ax.grid(True, axis="x", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Capacity decided by the run (extendable elements)")
    return [save(fig, out / "capacities.png")]


def network_map(run: RunFolder, out: Path, axis: TimeAxis, net=None) -> list[Path]:
    """Buses at their coordinates (buses.csv x = longitude, y = latitude), branches coloured by mean loading:
    the weighted mean over hours of |flow| / rating in the flow's direction."""
    if net is None:
        return []
    buses = net.tables["buses"]
    if not {"x", "y"} <= set(buses.columns) or buses[["x", "y"]].isna().all().all():
        return []
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize
    fl = run.table("flows")
    w = run.weights()
    lim = np.where(fl["p0_mw"] >= 0, fl["limit_mw"], fl["limit_reverse_mw"])
    load = fl.assign(loading=np.abs(fl["p0_mw"]) / np.where(lim > 0, lim, np.nan))
    load["loading"] = load["loading"].fillna(0.0)
    share = weighted(load, "loading", w).groupby(load["branch"]).sum() / float(w.sum())
    ends = fl.drop_duplicates("branch").set_index("branch")[["bus0", "bus1"]]
    xy = buses[["x", "y"]].astype(float)
    segs, vals = [], []
    for b, (b0, b1) in ends.iterrows():
        if b0 in xy.index and b1 in xy.index and xy.loc[[b0, b1]].notna().all().all():
            segs.append([xy.loc[b0].to_numpy(), xy.loc[b1].to_numpy()])
            vals.append(100.0 * share.get(b, 0.0))
    fig = figure(11, 8)
    ax = fig.add_subplot()
    norm = Normalize(0.0, 100.0)
    lc = LineCollection(segs, array=np.asarray(vals), cmap=colormaps["plasma"], norm=norm, linewidths=2.2)
    ax.add_collection(lc)
    ext = buses["region"] == "external"
    for mask, marker, label in ((~ext, "o", "bus"), (ext, "s", "external bus")):
        p = xy[mask.to_numpy()].dropna()
        ax.scatter(p["x"], p["y"], s=22, marker=marker, color="black" if marker == "o" else "grey", zorder=3,
                   label=label)
        for name, (px, py) in p.iterrows():
            ax.annotate(str(name), (px, py), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.autoscale()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("longitude (degrees east)")
    ax.set_ylabel("latitude (degrees north)")
    ax.set_title("Network: branches coloured by mean loading")
    ax.legend(fontsize=8, loc="lower left")
    fig.colorbar(lc, ax=ax, label="mean loading (% of rating)", shrink=0.8)
    ax.grid(True, alpha=0.3)
    return [save(fig, out / "network_map.png")]


Chart = Callable[..., list[Path]]
NEEDS_CASE: tuple[Chart, ...] = (uhv_flows, reservoirs, network_map)
CHARTS: tuple[Chart, ...] = (dispatch_stacks, price_heatmap, price_duration, uhv_flows, dc_flows, reservoirs,
                             storage, gas, capacities, network_map)


def plot_run(path: str | os.PathLike, out: str | os.PathLike | None = None,
             case: str | os.PathLike | None = None) -> list[Path]:
    """Every chart of the results folder `path`, written to `out` (default `path`/charts); returns the files.
    `case` (a case name or folder) gives the case's data where the summary's case name does not find it."""
    from ..errors import UsageError
    run = RunFolder(path)
    if not run.solved:
        raise UsageError(f"{run.path}: status {run.summary.get('status')}: no solution to draw")
    target = Path(out) if out is not None else run.path / "charts"
    net = run.case(case)
    axis = TimeAxis(run.hours())
    files: list[Path] = []
    for chart in CHARTS:
        files += chart(run, target, axis, net) if chart in NEEDS_CASE else chart(run, target, axis)
    return files


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in str(name))
