"""External markets, their hourly prices, and the export contracts of the outgoing links.

Inputs: ``markets.csv``, ``interregional_links.csv`` (contract energy and share), the price and contract
columns of ``monthly_profiles.csv`` and the time-of-use factors of ``hourly_profiles.csv``.
Units: MW, CNY/MWh, t/MWh, TWh.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import HOURS, SNAPSHOTS, Inputs, hourly_frame, mid_month_curve, monthly
from .grid import in_service_masks

CONTRACT_CAP_PU = 0.95   # a contract never asks for more than this share of the link rating


def build_markets(inp: Inputs) -> pd.DataFrame:
    return pd.DataFrame([dict(name=m.name, bus=m.bus, buy_max_mw=float(m.buy_max_mw),
                              sell_max_mw=float(m.sell_max_mw), buy_price=float(m.buy_price_cny_per_mwh),
                              sell_price=float(m.sell_price_cny_per_mwh),
                              co2_t_per_mwh=float(m.co2_t_per_mwh))
                         for m in inp["markets"].itertuples(index=False)])


def contract_shape(inp: Inputs) -> np.ndarray:
    """Hourly contract shape, mean 1: the monthly ``export_contract_factor`` through mid-month, by day."""
    shape = mid_month_curve(monthly(inp, "export_contract_factor"))
    return shape / shape.mean()


def build_link_pmax(inp: Inputs) -> pd.DataFrame:
    """``link_p_max_pu`` (overrides the static p_max_pu): 0 before a link's in-service date; from it, a link
    with an annual plan carries at most the plan's energy times ``export_plan_headroom``, at most its rating:
    the contract energy on the contract shape, or ``plan_energy_twh`` flat for a link without a contract.
    Inter-regional DC flows run to the dispatch plans set from the annual contracts, with room for
    surplus-hydro trades on top; without the plan the LP would send power whenever a receiving price beats
    the sending end's coal."""
    shape = contract_shape(inp)
    headroom = inp.fig.export_plan_headroom
    out = {n: m.astype(float) for n, m in in_service_masks(inp).items()}
    for k in inp["interregional_links"].itertuples(index=False):
        contracted = not pd.isna(k.contract_energy_twh)
        if not contracted and pd.isna(k.plan_energy_twh):
            continue
        energy, s = (k.contract_energy_twh, shape) if contracted else (k.plan_energy_twh, 1.0)
        plan = np.minimum(1.0, energy * 1e6 / HOURS * s * headroom / k.p_nom_mw)
        out[k.name] = np.round(out.get(k.name, 1.0) * plan, 4)
    return hourly_frame(out)


def build_contracts(inp: Inputs, info: dict) -> pd.DataFrame:
    """Contract minimum (MW) = contract energy x share / 8,760 h x monthly factor (renormalised, by day),
    capped at ``CONTRACT_CAP_PU`` x p_nom, and 0 before the link's in-service date (no contract binds on a
    line not yet built). Links without contract energy have no contract."""
    shape = contract_shape(inp)
    in_service = in_service_masks(inp)
    out = {}
    info["contracts_twh"] = {}
    for k in inp["interregional_links"].itertuples(index=False):
        if pd.isna(k.contract_energy_twh):
            continue
        mean_mw = k.contract_energy_twh * k.contract_share * 1e6 / HOURS
        c = np.minimum(mean_mw * shape, CONTRACT_CAP_PU * k.p_nom_mw)
        c = np.where(in_service.get(k.name, True), c, 0.0)
        out[k.name] = np.round(c, 1)
        info["contracts_twh"][k.name] = c.sum() / 1e6
    return hourly_frame(out)


def price_shape(inp: Inputs, season: str, tou_swing: float) -> np.ndarray:
    """Relative price, mean 1: seasonal factor (by day) x time-of-use factor, the time-of-use deviation
    from 1 scaled by ``tou_swing``."""
    hod = SNAPSHOTS.hour.to_numpy()
    hourly = inp["hourly_profiles"].sort_values("hour")
    assert list(hourly.hour) == list(range(24)), "hourly_profiles.csv needs hours 0..23"
    tou = hourly.price_tou_factor.to_numpy(dtype=float)
    tou = tou / tou.mean()
    tou = 1.0 + tou_swing * (tou - 1.0)
    s = mid_month_curve(monthly(inp, f"price_season_{season}")) * tou[hod]
    return s / s.mean()


def build_prices(inp: Inputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Buy and sell prices (CNY/MWh) = base price x price shape, for markets that buy or sell."""
    buy, sell = {}, {}
    for m in inp["markets"].itertuples(index=False):
        shape = price_shape(inp, m.price_season, m.tou_swing)
        if m.buy_max_mw > 0:
            buy[m.name] = np.round(m.buy_price_cny_per_mwh * shape, 2)
        if m.sell_max_mw > 0:
            sell[m.name] = np.round(m.sell_price_cny_per_mwh * shape, 2)
    return hourly_frame(buy), hourly_frame(sell)
