#!/usr/bin/env python3
"""Build the shipped ``sichuan_chongqing`` case: network tables and hourly series.

Run from the repository root::

    python timeseries/build_sichuan_chongqing.py            # writes the committed files
    python timeseries/build_sichuan_chongqing.py --out DIR  # Parquet into DIR, tables into DIR/network

Inputs are the compact copies of public data under ``timeseries/sichuan_chongqing/inputs/``
(see ``networks/sichuan_chongqing/SOURCES.md``). Everything else is stated below as data with a
source key (``[Sx]``/``[Tx]``, resolved in SOURCES.md) or marked EST (an estimate).
The build is deterministic: fixed seeds, no clock, no network. Units: MW, MWh, hm3, m3/s,
Mm3/h, CNY.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ROOT / "timeseries" / "sichuan_chongqing" / "inputs"
SERIES_DIR = ROOT / "timeseries" / "sichuan_chongqing"
NETWORK_DIR = ROOT / "networks" / "sichuan_chongqing"

YEAR = 2025
HOURS = 8760
SNAPSHOTS = pd.date_range("2025-01-01 00:00", periods=HOURS, freq="h", name="snapshot")
SEED = 20250101

SC_ZONES = ["SC_CD", "SC_DM", "SC_LY", "SC_S", "SC_NE", "SC_PX", "SC_W"]
CQ_ZONES = ["CQ_C", "CQ_W", "CQ_NE", "CQ_SE"]

# --------------------------------------------------------------------------------------------
# Buses: name, region, v_nom kV, lon, lat, description (coordinates EST, for plots)
# --------------------------------------------------------------------------------------------
BUSES = [
    ("SC_CD", "Sichuan", 500, 104.07, 30.57, "Chengdu plain: Chengdu, Meishan, Ziyang"),
    ("SC_DM", "Sichuan", 500, 104.55, 31.35, "Deyang, Mianyang, Guangyuan; Deyang converter of De-Bao DC"),
    ("SC_LY", "Sichuan", 500, 103.30, 29.75, "Leshan, Ya'an; Dadu middle and lower cascade"),
    ("SC_S", "Sichuan", 500, 104.90, 29.20, "South Sichuan: Yibin, Luzhou, Zigong, Neijiang"),
    ("SC_NE", "Sichuan", 500, 106.60, 30.90, "North-east Sichuan: Nanchong, Suining, Guang'an, Dazhou, Bazhong"),
    ("SC_PX", "Sichuan", 500, 102.20, 27.80, "Panxi: Panzhihua, Liangshan; Yalong lower cascade, Jinping and Yalong converters"),
    ("SC_W", "Sichuan", 500, 101.50, 30.60, "West Sichuan plateau: Ganzi, Aba; Yalong and Dadu upper cascades"),
    ("CQ_C", "Chongqing", 500, 106.55, 29.50, "Chongqing central urban districts and south ring; Yubei converter"),
    ("CQ_W", "Chongqing", 500, 105.95, 29.75, "Chongqing west: Tongliang, Yongchuan, Hechuan, Dazu, Tongnan"),
    ("CQ_NE", "Chongqing", 500, 108.40, 30.80, "Chongqing north-east: Wanzhou, Kaizhou, Fengjie, Yunyang"),
    ("CQ_SE", "Chongqing", 500, 107.50, 29.50, "Chongqing south-east: Fuling, Changshou, Wujiang basin"),
    ("UHV_GANZI", "Sichuan", 1000, 101.95, 30.05, "Ganzi 1000 kV substation (in SC_W), 2024"),
    ("UHV_TIANFU_S", "Sichuan", 1000, 104.05, 30.30, "Tianfu South 1000 kV substation (in SC_CD), 2024; location EST"),
    ("UHV_CHENGDU_E", "Sichuan", 1000, 104.55, 30.45, "Chengdu East 1000 kV substation (in SC_CD), 2024; location EST"),
    ("UHV_TONGLIANG", "Chongqing", 1000, 106.05, 29.85, "Tongliang 1000 kV substation, Shaoyun town (in CQ_W), 2024"),
    ("UHV_ABA", "Sichuan", 1000, 102.20, 31.90, "Aba 1000 kV substation (in SC_W), expected 2026"),
    ("UHV_PANXI", "Sichuan", 1000, 102.25, 27.90, "Panxi 1000 kV substation (in SC_PX), approved Dec 2025, expected 2028"),
    ("UHV_CHUANNAN", "Sichuan", 1000, 104.60, 29.35, "Chuannan 1000 kV substation (in SC_S), approved Dec 2025, expected 2028"),
    ("JS_LOWER", "Sichuan", 500, 103.20, 27.60, "Jinsha lower hydro base: Baihetan, Xiluodu, Xiangjiaba and their DC converters (in the Sichuan grid area)"),
    ("JS_UPPER", "Sichuan", 500, 99.10, 30.00, "Jinsha upper hydro base on the Sichuan-Tibet border; Bangguo converter (Jinshang-Hubei DC)"),
    ("JS_WUDONGDE", "external", 500, 102.63, 26.33, "Wudongde station: output sold to the China Southern grid only"),
    ("EXT_SHANGHAI", "external", 500, 121.47, 31.00, "East China: Shanghai (Fengxian converter)"),
    ("EXT_JIANGSU", "external", 500, 120.70, 31.60, "East China: Jiangsu (Suzhou and Yucheng converters)"),
    ("EXT_ZHEJIANG", "external", 500, 120.10, 29.60, "East China: Zhejiang (Jinhua and Zhebei converters)"),
    ("EXT_JIANGXI", "external", 500, 116.30, 28.00, "Central China: Jiangxi (Poyang Lake converter)"),
    ("EXT_HUBEI", "external", 500, 112.00, 30.60, "Central China: Hubei (Daye converter, Yu-E back-to-back stations)"),
    ("EXT_SOUTH", "external", 500, 112.50, 23.50, "China Southern grid: Guangdong, Guangxi"),
    ("EXT_NW", "external", 500, 107.20, 34.40, "Northwest China: Shaanxi (Baoji converter)"),
    ("EXT_XJ", "external", 500, 93.00, 43.60, "Xinjiang: Hami (Barkol converter)"),
    ("EXT_TIBET", "external", 500, 97.20, 31.10, "Tibet: Changdu"),
]

# --------------------------------------------------------------------------------------------
# AC corridors: stem, bus0, bus1, circuits, route km, build_year, description.
# One CSV row per circuit. x = 0.28 ohm/km (500 kV, 4-bundle) or 0.26 ohm/km (1000 kV,
# 8-bundle) EST; ratings per circuit EST (500 kV by length, 1000 kV 5,000 MW).
# --------------------------------------------------------------------------------------------
CORRIDORS = [
    ("SC_W_SC_CD", "SC_W", "SC_CD", 4, 260, 0, "Ganzi/Aba outlet to Chengdu (Shuzhou, Ganggudi lines) EST"),
    ("SC_W_SC_LY", "SC_W", "SC_LY", 4, 180, 0, "Ganzi outlet to Ya'an EST"),
    ("SC_W_SC_PX", "SC_W", "SC_PX", 2, 260, 0, "Yalong upper (Lianghekou) to Panxi EST"),
    ("SC_PX_SC_LY", "SC_PX", "SC_LY", 4, 320, 0, "Panxi outlet north (Ertan, Jinping to Leshan/Ya'an) EST"),
    ("SC_PX_SC_S", "SC_PX", "SC_S", 2, 330, 0, "Panxi outlet east to South Sichuan EST"),
    ("SC_LY_SC_CD", "SC_LY", "SC_CD", 4, 140, 0, "Leshan/Ya'an to Chengdu EST"),
    ("SC_LY_SC_S", "SC_LY", "SC_S", 2, 160, 0, "Leshan to Zigong/Yibin EST"),
    ("SC_CD_SC_DM", "SC_CD", "SC_DM", 4, 90, 0, "Chengdu to Deyang/Mianyang EST"),
    ("SC_CD_SC_S", "SC_CD", "SC_S", 2, 190, 0, "Chengdu to Neijiang/Zigong EST"),
    ("SC_CD_SC_NE", "SC_CD", "SC_NE", 2, 170, 0, "Chengdu to Suining EST"),
    ("SC_DM_SC_NE", "SC_DM", "SC_NE", 2, 180, 0, "Mianyang to Nanchong EST"),
    ("SC_S_SC_NE", "SC_S", "SC_NE", 2, 200, 0, "Neijiang to Suining/Guang'an EST"),
    ("JS_LOWER_SC_S", "JS_LOWER", "SC_S", 2, 150, 0, "limited AC tie of Xiangjiaba/Xiluodu to Yibin EST"),
    ("JS_LOWER_SC_PX", "JS_LOWER", "SC_PX", 2, 180, 0, "limited AC tie of Baihetan area to Panxi EST"),
    ("JS_UPPER_SC_W", "JS_UPPER", "SC_W", 2, 320, 0, "Batang/Bangguo to the Ganzi grid EST"),
    ("HONGBAN", "SC_NE", "CQ_C", 2, 190, 0, "Sichuan-Chongqing 500 kV tie 'Hongban' [S23]; route EST"),
    ("HUANGWAN", "SC_NE", "CQ_NE", 2, 170, 0, "Sichuan-Chongqing 500 kV tie 'Huangwan' [S23]; route EST"),
    ("SCCQ_THIRD", "SC_CD", "CQ_W", 2, 210, 2017, "Sichuan-Chongqing third channel Ziyang-Tongliang-Hechuan, double circuit, 2017 [S23]"),
    ("CQ_W_CQ_C", "CQ_W", "CQ_C", 4, 80, 0, "Chongqing west to central (Hechuan-Beibei-Yubei) EST"),
    ("CQ_C_CQ_SE", "CQ_C", "CQ_SE", 4, 100, 0, "Chongqing central to Changshou/Fuling EST"),
    ("CQ_SE_CQ_NE", "CQ_SE", "CQ_NE", 2, 190, 0, "Fuling/Zhong county to Wanzhou EST"),
    ("CQ_C_CQ_NE", "CQ_C", "CQ_NE", 2, 240, 0, "Chongqing central to Wanzhou EST"),
    # 1000 kV: route 657 km double circuit in total [S1][S2]; split into legs EST
    ("UHV_GANZI_TIANFU", "UHV_GANZI", "UHV_TIANFU_S", 2, 383, 2024, "1000 kV Ganzi-Tianfu South [S1][S2]; leg length EST"),
    ("UHV_TIANFU_CHENGDU_E", "UHV_TIANFU_S", "UHV_CHENGDU_E", 2, 52, 2024, "1000 kV Tianfu South-Chengdu East [S2]; leg length EST"),
    ("UHV_TIANFU_TONGLIANG", "UHV_TIANFU_S", "UHV_TONGLIANG", 2, 222, 2024, "1000 kV Tianfu South-Tongliang [S2][S5]; leg length EST"),
    ("UHV_ABA_CHENGDU_E", "UHV_ABA", "UHV_CHENGDU_E", 2, 371.7, 2026, "1000 kV Aba-Chengdu East, 371.7 km, expected 2026 [S8][S9]"),
    ("UHV_PANXI_CHUANNAN", "UHV_PANXI", "UHV_CHUANNAN", 2, 360.8, 2028, "1000 kV Panxi-Chuannan 2x360.8 km, approved 2025, expected 2028 [S10]"),
    ("UHV_CHUANNAN_TIANFU", "UHV_CHUANNAN", "UHV_TIANFU_S", 2, 142.2, 2028, "1000 kV Chuannan-Tianfu South 2x142.2 km, expected 2028 [S10]"),
]
X_OHM_PER_KM = {500: 0.28, 1000: 0.26}
UHV_CIRCUIT_MW = 5000.0


def rating_500kv(km: float) -> float:
    """EST per-circuit rating of a 500 kV circuit (stability-limited on long routes)."""
    if km <= 150:
        return 1500.0
    if km <= 300:
        return 1300.0
    return 1100.0


# name stem, bus0 (1000 kV), bus1 (500 kV), banks, MVA per bank, build_year [source]
TRANSFORMERS = [
    ("UHV_GANZI", "UHV_GANZI", "SC_W", 2, 3000.0, 2024, "Ganzi 6 GVA [S6]"),
    ("UHV_TIANFU_S", "UHV_TIANFU_S", "SC_CD", 2, 3000.0, 2024, "6 GVA EST (18 GVA over three stations [S2])"),
    ("UHV_CHENGDU_E", "UHV_CHENGDU_E", "SC_CD", 2, 3000.0, 2024, "6 GVA EST (18 GVA over three stations [S2])"),
    ("UHV_TONGLIANG", "UHV_TONGLIANG", "CQ_W", 2, 3000.0, 2024, "6 GVA EST (18 GVA over three stations [S2])"),
    ("UHV_ABA", "UHV_ABA", "SC_W", 2, 3000.0, 2026, "6 GVA EST [S8]"),
    ("UHV_PANXI", "UHV_PANXI", "SC_PX", 3, 3000.0, 2028, "3x3 GVA [S10]"),
    ("UHV_CHUANNAN", "UHV_CHUANNAN", "SC_S", 2, 3000.0, 2028, "2x3 GVA [S10]"),
]
TRANSFORMER_X_PU = 0.18


def dc_efficiency(km: float, per_1000km: float = 0.015, converters: float = 0.007) -> float:
    """Line losses per 1,000 km plus converter losses of one converter pair (EST)."""
    return round(1.0 - per_1000km * km / 1000.0 - converters, 4)


# Links: name, bus0, bus1, p_nom, p_min_pu, efficiency, marginal_cost, km, build_year, carrier,
# design/reported annual energy TWh (None = no export contract), contract share of it, note
LINKS = [
    ("DC_XIANGJIABA_SHANGHAI", "JS_LOWER", "EXT_SHANGHAI", 6400.0, 0.0, dc_efficiency(1907), 50.0, 1907, 2010, "DC", 26.6, 0.85, "Fulong-Fengxian +-800 kV [S15]"),
    ("DC_JINPING_SUNAN", "SC_PX", "EXT_JIANGSU", 7200.0, 0.0, dc_efficiency(2059), 50.0, 2059, 2012, "DC", 36.0, 0.85, "Jinping (Yulong)-Suzhou +-800 kV [S16]"),
    ("DC_XILUODU_ZHEXI", "JS_LOWER", "EXT_ZHEJIANG", 8000.0, 0.0, dc_efficiency(1670.8), 50.0, 1670.8, 2014, "DC", 40.0, 0.85, "Shuanglong-Jinhua +-800 kV [S17]"),
    ("DC_YAZHONG_JIANGXI", "SC_PX", "EXT_JIANGXI", 8000.0, 0.0, dc_efficiency(1696), 50.0, 1696, 2021, "DC", 36.0, 0.85, "Yalong (Yanyuan)-Poyang Lake +-800 kV [S18]"),
    ("DC_BAIHETAN_JIANGSU", "JS_LOWER", "EXT_JIANGSU", 8000.0, 0.0, dc_efficiency(2080), 50.0, 2080, 2022, "DC", 30.0, 0.85, "Baihetan (Butuo)-Yucheng +-800 kV hybrid [S19]"),
    ("DC_BAIHETAN_ZHEJIANG", "JS_LOWER", "EXT_ZHEJIANG", 8000.0, 0.0, dc_efficiency(2121), 50.0, 2121, 2022, "DC", 30.0, 0.85, "Baihetan (Butuo)-Zhebei +-800 kV [S20]"),
    ("DC_JINSHANG_HUBEI", "JS_UPPER", "EXT_HUBEI", 8000.0, 0.0, dc_efficiency(1900), 50.0, 1900, 2025, "DC", 40.0, 0.40, "Bangguo-Daye +-800 kV, in service 18 Dec 2025 [S14]; contract at 40% of design in the ramp-up year EST"),
    ("DC_XILUODU_GUANGDONG", "JS_LOWER", "EXT_SOUTH", 6400.0, 0.0, dc_efficiency(1253, 0.025, 0.010), 50.0, 1253, 2014, "DC", 30.0, 0.85, "Xiluodu right bank to Guangdong, +-500 kV double bipole; from general knowledge, UNVERIFIED"),
    ("DC_WUDONGDE_SOUTH", "JS_WUDONGDE", "EXT_SOUTH", 10200.0, 0.0, dc_efficiency(1452), 50.0, 1452, 2020, "DC", None, 0.0, "Wudongde outlet: Kunliulong +-800 kV plus Yunnan AC, sized to the station EST"),
    ("DC_DEYANG_BAOJI", "SC_DM", "EXT_NW", 3000.0, -1.0, dc_efficiency(574, 0.025, 0.010), 30.0, 574, 2010, "DC", None, 0.0, "De-Bao +-500 kV, bidirectional [S21][S90]; length EST"),
    ("B2B_YU_E_NORTH", "CQ_NE", "EXT_HUBEI", 2500.0, -1.0, 0.99, 10.0, np.nan, 2019, "B2B", None, 0.0, "Yu-E back-to-back, north channel (Yichang) [S22]; 2,500 of 5,000 MW EST; year UNVERIFIED"),
    ("B2B_YU_E_SOUTH", "CQ_SE", "EXT_HUBEI", 2500.0, -1.0, 0.99, 10.0, np.nan, 2019, "B2B", None, 0.0, "Yu-E back-to-back, south channel (Enshi) [S22]; 2,500 of 5,000 MW EST; year UNVERIFIED"),
    ("DC_HAMI_CHONGQING", "EXT_XJ", "CQ_C", 8000.0, 0.0, dc_efficiency(2260), 50.0, 2260, 2025, "DC", None, 0.0, "Barkol-Yubei +-800 kV, energised 10 Jun 2025 [S12][S13]"),
    ("AC_SICHUAN_TIBET", "JS_UPPER", "EXT_TIBET", 1000.0, -1.0, dc_efficiency(500, 0.03, 0.0), 30.0, 500, 2014, "AC", None, 0.0, "Sichuan-Tibet 500 kV AC tie modelled as a controllable link, 1,000 MW as in [S25]; length EST"),
]

# Interfaces: name, limit, reverse limit, description, members (branch stems on the sending side)
GANZI_OUT_MW = 11350.0 + 4800.0   # 500 kV outlet [S61d] + UHV gain [S1]
SC_CQ_MW = 10000.0                # 6 GW before the UHV project [S25] + up to 4 GW [S1], EST

# --------------------------------------------------------------------------------------------
# Reservoir stations. k = production coefficient MW per m3/s: 3.6 / water use (m3/kWh) from
# dams_sc_region.csv where given, else 9.81*0.9*head/1000 from the stated rated head (EST).
# Mean turbined flow: from published annual energy (energy_twh) as E/(k*8760), or a total mean
# flow EST (q_mean), or an incremental mean flow EST (incr) added to the upstream mean.
# vol_max = storage at the normal pool, vol_reg = regulating storage; dead pool = max - reg.
# --------------------------------------------------------------------------------------------
RESERVOIRS = [
    # name, dams-file name, bus, river, p_nom, head_m (EST, used when no dams-file value),
    # vol_max, vol_reg, mode, value, downstream, delay_h, build_year, seasonal, sources
    ("Wudongde", "Wudongde", "JS_WUDONGDE", "Jinsha", 10200, None, 7408, 3000, "q_mean", 3400, "Baihetan", 8, 2021, True, "[S37]; volumes EST; mean flow EST below Baihetan's"),
    ("Baihetan", "Baihetan", "JS_LOWER", "Jinsha", 16000, None, 20600, 10400, "energy_twh", 62.4, "Xiluodu", 8, 2022, True, "[S46][S46b]; regulating volume EST"),
    ("Xiluodu", "Xiluodu", "JS_LOWER", "Jinsha", 13860, None, 12670, 6460, "energy_twh", 60.0, "Xiangjiaba", 6, 2014, True, "[S37][S46c] (57.1-64.0 TWh quoted, mid value); volumes EST"),
    ("Xiangjiaba", "Xiangjiaba", "JS_LOWER", "Jinsha", 7750, None, 4990, 900, "incr", 150, "", 0, 2012, True, "[S37]; volumes and incremental flow EST"),
    ("Lianghekou", None, "SC_W", "Yalong", 3000, 255, 10800, 6560, "energy_twh", 11.06, "Yangfanggou", 8, 2021, True, "[S45]; head EST"),
    ("Yangfanggou", None, "SC_PX", "Yalong", 1500, 100, 512, 40, "incr", 250, "Jinping1", 6, 2021, False, "[S37]; head, volumes, flow EST"),
    ("Jinping1", "Jinping1", "SC_PX", "Yalong", 3600, None, 7760, 4910, "incr", 230, "Jinping2", 1, 2013, True, "[S37][S45]; volumes EST (with Lianghekou and Ertan about 14.8 bn m3 [S45])"),
    ("Jinping2", "Jinping2", "SC_PX", "Yalong", 4800, None, 14, 5, "incr", 15, "Guandi", 6, 2012, False, "[S37]; diversion scheme, volumes EST"),
    ("Guandi", "Guandi", "SC_PX", "Yalong", 2400, None, 760, 29, "incr", 200, "Ertan", 6, 2012, False, "[S37]; volumes EST"),
    ("Ertan", "Ertan", "SC_PX", "Yalong", 3300, None, 5800, 3370, "incr", 150, "Tongzilin", 1, 1998, True, "[S37][S45]; volumes EST"),
    ("Tongzilin", None, "SC_PX", "Yalong", 600, 21.5, 91, 15, "incr", 60, "Wudongde", 10, 2015, False, "[S37]; head, volumes EST; the Yalong joins the Jinsha at Panzhihua, upstream of Wudongde"),
    ("Shuangjiangkou", None, "SC_W", "Dadu", 2000, 200, 2897, 1917, "q_mean", 400, "Houziyan", 10, 2025, True, "[S37] start-up 2024-25; head, volumes, flow EST"),
    ("Houziyan", None, "SC_W", "Dadu", 1700, 186, 662, 387, "energy_twh", 7.3, "Changheba", 2, 2017, True, "[S37][S47]; head, regulating volume EST"),
    ("Changheba", None, "SC_W", "Dadu", 2600, 197, 1075, 410, "energy_twh", 10.7, "Huangjinping", 1, 2017, True, "[S37][S47]; head, regulating volume EST"),
    ("Huangjinping", None, "SC_W", "Dadu", 850, 70, 140, 20, "incr", 20, "Luding", 2, 2015, False, "[S37]; head, volumes, flow EST"),
    ("Luding", "Luding", "SC_W", "Dadu", 920, None, 237, 41, "incr", 15, "Dagangshan", 4, 2012, False, "[S37]; volumes EST"),
    ("Dagangshan", None, "SC_LY", "Dadu", 2600, 160, 742, 117, "energy_twh", 11.4, "Longtoushi", 1, 2015, False, "[S37][S47]; head, regulating volume EST"),
    ("Longtoushi", None, "SC_LY", "Dadu", 700, 51, 120, 20, "incr", 30, "Pubugou", 2, 2008, False, "[S37]; head, volumes, flow EST"),
    ("Pubugou", "Pubugou", "SC_LY", "Dadu", 3600, None, 5390, 3890, "energy_twh", 14.6, "Shenxigou", 1, 2009, True, "[S37]; energy (design) and volumes EST"),
    ("Shenxigou", "Shenxigou", "SC_LY", "Dadu", 660, None, 33, 9, "incr", 10, "Zhentouba", 1, 2010, False, "[S37]; volumes EST"),
    ("Zhentouba", None, "SC_LY", "Dadu", 720, 35, 40, 10, "incr", 20, "Gongzui", 2, 2008, False, "[S37]; head, volumes EST"),
    ("Gongzui", "Gongzui", "SC_LY", "Dadu", 770, None, 310, 90, "incr", 60, "Tongjiezi", 2, 1971, False, "[S37]; volumes EST"),
    ("Tongjiezi", "Tongjiezi", "SC_LY", "Dadu", 700, None, 200, 30, "incr", 10, "", 0, 1994, False, "[S37]; volumes EST"),
    ("Baozhusi", None, "SC_DM", "Bailong", 700, 84, 2550, 1300, "q_mean", 300, "Tingzikou", 5, 1996, True, "[S37][S90]; head, volumes, flow EST"),
    ("Tingzikou", None, "SC_DM", "Jialing", 1100, 73, 4067, 1732, "incr", 280, "", 0, 2014, True, "[S37][S90]; head, volumes, flow EST"),
    ("Zipingpu", None, "SC_CD", "Min", 760, 100, 1112, 775, "q_mean", 440, "", 0, 2006, True, "[S37][S47]; head, regulating volume, flow EST"),
    ("Pengshui", None, "CQ_SE", "Wujiang", 1750, 67, 1465, 520, "q_mean", 1250, "Yinpan", 3, 2008, True, "[S37]; head, volumes, flow EST"),
    ("Yinpan", None, "CQ_SE", "Wujiang", 600, 30, 320, 40, "incr", 60, "", 0, 2011, False, "[S37]; head, volumes, flow EST"),
]
# GEM plant names of the reservoir stations (to take them out of the run-of-river remainder)
GEM_NAME = {
    "Lianghekou": "Lianghekou", "Yangfanggou": "Yangfanggou", "Jinping1": "Jinping Stage 1",
    "Jinping2": "Jinping Stage 2", "Guandi": "Guandi", "Ertan": "Ertan", "Tongzilin": "Tongzilin",
    "Houziyan": "Houziyan", "Changheba": "Changheba", "Huangjinping": "Huangjinping", "Luding": "Luding",
    "Dagangshan": "Dagangshan", "Longtoushi": "Longtoushi", "Pubugou": "Pubugou", "Shenxigou": "Shenxigou",
    "Zhentouba": "Zhentouba Stage 1", "Gongzui": "Gongzui", "Tongjiezi": "Tongjiezi", "Baozhusi": "Baozhusi",
    "Tingzikou": "Tingzikou", "Zipingpu": "Zipingpu", "Pengshui": "Pengshui", "Yinpan": "Yinpan",
}
ECO_FLOW_SHARE = 0.12   # EST, of the station's mean flow
MIN_INCREMENT = 5.0     # m3/s floor of an incremental inflow

# Rule curves as shares of the regulating volume, anchored at the first hour of each month
# (Jan..Dec, then Jan again), linear in between. EST.
RULE_SEASONAL = {   # flood-control limit through August, refill from August to October
    "target": [0.75, 0.60, 0.45, 0.30, 0.15, 0.08, 0.25, 0.40, 0.55, 0.80, 0.75, 0.78],
    "min": [0.45, 0.30, 0.18, 0.08, 0.00, 0.00, 0.05, 0.15, 0.25, 0.60, 0.75, 0.62],
    "max": [1.00, 1.00, 1.00, 1.00, 1.00, 0.75, 0.40, 0.45, 0.60, 1.00, 1.00, 1.00],
}
RULE_DAILY = {
    "target": [0.60] * 12,
    "min": [0.20] * 12,
    "max": [1.00] * 6 + [0.90, 0.90] + [1.00] * 4,
}

# --------------------------------------------------------------------------------------------
# Capacity targets (MW) and splits
# --------------------------------------------------------------------------------------------
SC_THERMAL_MW = 26450.0   # [S30], coal + gas in service in 2025
CQ_THERMAL_MW = 16460.0   # dispatched thermal Apr 2025 [T1] (low confidence)
SC_HYDRO_OFFICIAL_MW = 100000.0   # [S32]: includes half of each border plant (EST counting rule)
CQ_HYDRO_MW = 6190.0      # dispatched hydro Apr 2025 [T1]
GUANYINYAN_MW = 3000.0    # [S37], Sichuan-Yunnan border, half counted in SC_PX
JINSHA_MID_SC_MW = 560.0 + 390.0   # Jinsha (GEM) + Yinjiang (last unit Dec 2025 [S32])
JS_UPPER_PLANTS = {"Suwalong": 1200.0, "Batang": 750.0, "Yebatan": 2440.0}   # [S37]
LAWA_MW = 2000.0          # [S37] under construction, build_year 2026 EST
SC_WIND_MW, SC_PV_MW = 9000.0, 23000.0   # 32 GW wind+PV end-2025 [S30][S31]; split EST
CQ_WIND_MW, CQ_PV_MW = 2600.0, 1180.0    # dispatched Apr 2025 [T1]
WIND_SPLIT = {"SC_PX": 0.60, "SC_W": 0.15, "SC_LY": 0.07, "SC_S": 0.06, "SC_NE": 0.06, "SC_DM": 0.06,
              "CQ_NE": 0.40, "CQ_SE": 0.40, "CQ_W": 0.10, "CQ_C": 0.10}
PV_SPLIT = {"SC_W": 0.40, "SC_PX": 0.35, "SC_CD": 0.06, "SC_DM": 0.05, "SC_LY": 0.04, "SC_S": 0.05, "SC_NE": 0.05,
            "CQ_C": 0.30, "CQ_W": 0.30, "CQ_NE": 0.20, "CQ_SE": 0.20}
PV_CF = {"SC_W": 0.22, "SC_PX": 0.19, "SC_CD": 0.11, "SC_DM": 0.11, "SC_LY": 0.11, "SC_S": 0.11, "SC_NE": 0.11,
         "CQ_C": 0.10, "CQ_W": 0.10, "CQ_NE": 0.10, "CQ_SE": 0.10}
PLATEAU = {"SC_W", "SC_PX"}
WIND_CF = {"SC_PX": 0.30, "SC_W": 0.27, "SC_LY": 0.20, "SC_S": 0.20, "SC_NE": 0.20, "SC_DM": 0.20,
           "CQ_NE": 0.22, "CQ_SE": 0.22, "CQ_W": 0.20, "CQ_C": 0.20}

# Coal heat rates by unit size, GJ/MWh (GEM defaults [S87]: USC 8.73, SC 8.87, subcritical 9.18;
# small/old units 11.0 [S36]); CO2 96.1 kg/GJ (GEM default for unspecified coal [S87]).
COAL_CO2_T_PER_GJ = 0.0961
GAS_CO2_T_PER_GJ = 0.0561
COAL_PRICE_CNY_PER_GJ = 39.0   # 900 CNY/t / 23.0 GJ/t, EST
GAS_PRICE_CNY_PER_GJ = 68.0    # 2.3 CNY/m3 / 0.034 GJ/m3, EST

# Gas units: GEM plant (substring) -> (build_year EST, MW per unit override, heat rate GJ/MWh)
GAS_PLANTS = {
    "Sichuan Investment Group Ziyang": (2024, 740.0, 5.65),   # 2x740 M701J online Sep 2024, eta 0.637 [S70]
    "Sichuan Guangyuan": (2026, None, 6.3),
    "Sichuan Deyang Zhongjiang": (2026, None, 6.3),
    "Chuantou Luzhou": (2026, None, 6.3),
    "Neijiang Baima": (2027, None, 6.3),
    "Huaneng Pengzhou": (2027, None, 6.3),
    "Chongqing Yubei": (2026, None, 6.3),
    "Datang Chongqing Jiangjin": (2027, None, 6.3),
    "Chongqing Wanzhou gas": (2027, None, 6.3),
}
GAS_SMALL_HR = 8.0   # units below 200 MW (industrial CHP, engines), eta 0.45 EST
GAS_CCGT_HR = 6.3    # eta 0.57 [S88]

# Load
LOAD_TARGET = {"Sichuan": (400.0, 74190.0), "Chongqing": (161.3, 30280.0)}   # TWh [S56b], MW [S52][S53]
ZONE_LOAD_SHARE = {"SC_CD": 0.35, "SC_DM": 0.12, "SC_LY": 0.09, "SC_S": 0.17, "SC_NE": 0.17, "SC_PX": 0.07,
                   "SC_W": 0.03, "CQ_C": 0.50, "CQ_W": 0.20, "CQ_NE": 0.15, "CQ_SE": 0.15}
INTERRUPTIBLE_SHARE = {"Sichuan": 0.10, "Chongqing": 0.11}   # 18% of an industrial share of 55%/60%, EST

# Markets: name, bus, buy_max, sell_max, buy base price, sell base price, co2, price season profile
MARKETS = [
    ("MKT_SHANGHAI", "EXT_SHANGHAI", 6400.0, 0.0, 415.5, 0.0, 0.0, "east"),
    ("MKT_JIANGSU", "EXT_JIANGSU", 15200.0, 0.0, 391.0, 0.0, 0.0, "east"),
    ("MKT_ZHEJIANG", "EXT_ZHEJIANG", 16000.0, 0.0, 415.3, 0.0, 0.0, "east"),
    ("MKT_JIANGXI", "EXT_JIANGXI", 8000.0, 0.0, 414.3, 0.0, 0.0, "east"),
    ("MKT_HUBEI", "EXT_HUBEI", 13000.0, 5000.0, 416.1, 460.0, 0.55, "east"),
    ("MKT_SOUTH", "EXT_SOUTH", 16600.0, 0.0, 453.0, 0.0, 0.0, "east"),
    ("MKT_NW", "EXT_NW", 3000.0, 3000.0, 354.5, 420.0, 0.80, "east"),
    ("MKT_XJ", "EXT_XJ", 0.0, 8000.0, 0.0, 330.0, 0.60, "flat"),
    ("MKT_TIBET", "EXT_TIBET", 1000.0, 1000.0, 340.0, 380.0, 0.0, "tibet"),
]

# Gas system (bcm/yr; 1 bcm/yr = 1000/8760 Mm3/h)
GAS_NODES = [
    ("GAS_SC_CD", "Sichuan", 104.07, 30.67), ("GAS_SC_S", "Sichuan", 104.90, 29.30),
    ("GAS_SC_NE", "Sichuan", 106.80, 31.00), ("GAS_CQ_C", "Chongqing", 106.55, 29.75),
    ("GAS_CQ_SE", "Chongqing", 107.40, 29.70), ("GAS_EAST", "external", 114.30, 30.60),
    ("GAS_ZHONGGUI", "external", 105.20, 33.00),
]
# gas node feeding the gas-fired units of each zone (their fuel is bought in the gas network, so fuel_price
# is 0); west and south-west Sichuan draw on the Chengdu-area network, EST
GAS_NODE_OF_ZONE = {"SC_CD": "GAS_SC_CD", "SC_DM": "GAS_SC_CD", "SC_LY": "GAS_SC_CD", "SC_W": "GAS_SC_CD",
                    "SC_PX": "GAS_SC_CD", "SC_S": "GAS_SC_S", "SC_NE": "GAS_SC_NE", "CQ_C": "GAS_CQ_C",
                    "CQ_W": "GAS_CQ_C", "CQ_NE": "GAS_CQ_C", "CQ_SE": "GAS_CQ_SE"}
GAS_SUPPLIES = [   # name, node, kind, bcm/yr, CNY/1000 m3, build_year
    ("SUP_SC_S_SHALE", "GAS_SC_S", "shale", 25.0, 1300.0, 0),     # Changning-Weiyuan-Luzhou [S64], split EST
    ("SUP_SC_NE_FIELDS", "GAS_SC_NE", "field", 25.0, 1100.0, 0),  # Anyue, Puguang, Yuanba, Dazhou EST
    ("SUP_SC_CD_FIELDS", "GAS_SC_CD", "field", 10.0, 1150.0, 0),  # West Sichuan (Xinchang, Pengzhou) EST
    ("SUP_CQ_SE_FULING", "GAS_CQ_SE", "shale", 10.0, 1300.0, 0),  # Fuling 10 bcm/yr [S65]
    ("SUP_CQ_C_FIELDS", "GAS_CQ_C", "field", 4.5, 1200.0, 0),     # rest of the 14.5 bcm plan [S66] EST
    ("SUP_ZHONGGUI_IMPORT", "GAS_ZHONGGUI", "import", 15.0, 1700.0, 0),   # Central Asian gas, price EST
]
SUPPLY_HEADROOM = 1.10
PIPELINES = [   # name, node0, node1, bcm/yr, reverse bcm/yr, efficiency, CNY/1000 m3, km, build_year
    ("PIPE_ZHONGGUI_NORTH", "GAS_ZHONGGUI", "GAS_SC_NE", 15.0, 0.0, 0.99, 150.0, 1000.0, 2012),
    ("PIPE_ZHONGGUI_SC_CQ", "GAS_SC_NE", "GAS_CQ_C", 15.0, 15.0, 0.998, 30.0, 250.0, 2012),
    ("PIPE_SEG1", "GAS_SC_NE", "GAS_EAST", 12.0, 0.0, 0.985, 150.0, 1635.0, 2010),
    ("PIPE_SEG2", "GAS_SC_S", "GAS_EAST", 20.0, 0.0, 0.985, 150.0, 4269.0, 2025),
    ("PIPE_FULING_WANGCHANG", "GAS_CQ_SE", "GAS_EAST", 6.0, 0.0, 0.99, 120.0, 136.5, 2015),
    ("PIPE_SC_S_SC_CD", "GAS_SC_S", "GAS_SC_CD", 10.0, 10.0, 0.998, 30.0, 200.0, 0),
    ("PIPE_SC_NE_SC_CD", "GAS_SC_NE", "GAS_SC_CD", 10.0, 10.0, 0.998, 30.0, 250.0, 0),
    ("PIPE_SC_S_CQ_C", "GAS_SC_S", "GAS_CQ_C", 10.0, 10.0, 0.998, 30.0, 250.0, 0),
    ("PIPE_CQ_SE_CQ_C", "GAS_CQ_SE", "GAS_CQ_C", 5.0, 5.0, 0.999, 20.0, 110.0, 0),
]
GAS_STORAGES = [   # name, node, working Mm3, withdrawal Mm3/d, initial share, final min share, build_year
    ("UGS_XIANGGUOSI", "GAS_CQ_C", 2300.0, 28.5, 0.60, 0.50, 2013),
    ("UGS_TONGLUOXIA", "GAS_CQ_C", 1580.0 * 9 / 24, 9.0, 0.60, 0.50, 2025),
    ("UGS_HUANGCAOXIA", "GAS_CQ_C", 1580.0 * 15 / 24, 15.0, 0.60, 0.50, 2024),
    ("UGS_LAOWENGCHANG", "GAS_SC_S", 1000.0, 10.0, 0.60, 0.50, 2027),
    ("UGS_MOUJIAPING", "GAS_SC_NE", 1000.0, 10.0, 0.60, 0.50, 2028),
]
GAS_DEMAND_BCM = {   # node: (residential+commercial, industry), EST; export demand separately
    "GAS_SC_CD": (4.7, 8.8), "GAS_SC_S": (3.2, 5.8), "GAS_SC_NE": (2.6, 4.9),
    "GAS_CQ_C": (3.4, 6.4), "GAS_CQ_SE": (1.1, 2.1),
}
GAS_EXPORT_BCM = 16.0   # Sichuan-East Gas I and the Fuling outlet, contract volume EST

STORAGE_UNITS = [   # name, bus, p_nom, max_hours, build_year, note
    ("PHS_PANLONG", "CQ_C", 1200.0, 6.0, 2024, "Panlong, all units 30 May 2024 [S41]; 6 h EST"),
    ("PHS_LIANGHEKOU", "SC_W", 1200.0, 6.0, 2026, "Lianghekou mixed PHS [S43]; 6 h EST"),
    ("PHS_CAIZIBA", "CQ_NE", 1200.0, 6.0, 2027, "Caiziba [S42]; 6 h EST"),
    ("PHS_DAOFU", "SC_W", 2100.0, 6.0, 2029, "Daofu, 12.6 GWh per day [S44]"),
    ("PHS_JIANQUAN", "CQ_NE", 1200.0, 6.0, 2029, "Jianquan [S37]; 6 h EST"),
]
PHS_EFFICIENCY = 0.866   # each way, cycle 0.75 [S41][S88]


# ============================================================================================
# utilities
# ============================================================================================
def month_index() -> np.ndarray:
    return SNAPSHOTS.month.to_numpy() - 1


DAY_START = np.repeat(np.arange(365) * 24.0, 24)   # hour of each snapshot's day start
DAY_NOON = DAY_START + 12.0


def monthly_anchor_curve(values: list[float]) -> np.ndarray:
    """Daily-step curve, linear between values anchored at the first hour of each month (cyclic);
    each day holds the value of its first hour."""
    starts = [pd.Timestamp(YEAR, m, 1) for m in range(1, 13)] + [pd.Timestamp(YEAR + 1, 1, 1)]
    xs = np.array([(s - SNAPSHOTS[0]) / pd.Timedelta(hours=1) for s in starts])
    ys = np.array(list(values) + [values[0]], dtype=float)
    return np.interp(DAY_START, xs, ys)


def mid_month_curve(values: list[float]) -> np.ndarray:
    """Daily-step curve through monthly means placed at mid-month, linear and cyclic (value at noon)."""
    mids = [pd.Timestamp(YEAR, m, 1) + (pd.Timestamp(YEAR + (m == 12), m % 12 + 1, 1) - pd.Timestamp(YEAR, m, 1)) / 2
            for m in range(1, 13)]
    xs = np.array([(s - SNAPSHOTS[0]) / pd.Timedelta(hours=1) for s in mids])
    xs = np.concatenate([[xs[-1] - HOURS], xs, [xs[0] + HOURS]])
    ys = np.concatenate([[values[-1]], values, [values[0]]])
    return np.interp(DAY_NOON, xs, ys)


def ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """Stationary AR(1) with unit variance."""
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0]
    s = math.sqrt(1.0 - phi * phi)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + s * e[i]
    return x


def daily_to_hourly(daily: np.ndarray) -> np.ndarray:
    """Daily values held through each day's 24 hours."""
    return np.repeat(daily[:365], 24)


def bisect(f, lo: float, hi: float, target: float, n: int = 60) -> float:
    """Root of f(x) = target for increasing f."""
    for _ in range(n):
        mid = 0.5 * (lo + hi)
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == bool:
            out[c] = np.where(out[c], "true", "false")
    out.to_csv(path, index=False, lineterminator="\n")


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    df = df.astype("float64")
    df.index = SNAPSHOTS
    df.to_parquet(path, compression="zstd")


# ============================================================================================
# network tables
# ============================================================================================
def read_inputs() -> dict[str, pd.DataFrame]:
    return {
        "gem": pd.read_csv(INPUTS / "gem_plants_by_zone.csv"),
        "dams": pd.read_csv(INPUTS / "dams_sc_region.csv"),
        "cascade": pd.read_csv(INPUTS / "dam_cascade_links.csv"),
        "hydro_avail": pd.read_csv(INPUTS / "hydro_monthly_availability_pik.csv"),
        "load": pd.read_csv(INPUTS / "load_hourly_2018_sc_cq_mw.csv"),
    }


def build_buses() -> pd.DataFrame:
    return pd.DataFrame(BUSES, columns=["name", "region", "v_nom", "x", "y", "description"]).astype({"v_nom": float})


def build_lines(buses: pd.DataFrame) -> pd.DataFrame:
    vnom = buses.set_index("name")["v_nom"]
    rows = []
    for stem, b0, b1, n, km, by, desc in CORRIDORS:
        kv = int(vnom[b0])
        assert kv == int(vnom[b1]), stem
        s_nom = UHV_CIRCUIT_MW if kv == 1000 else rating_500kv(km)
        for i in range(1, n + 1):
            rows.append(dict(name=f"{stem}_{i}", bus0=b0, bus1=b1, x=round(X_OHM_PER_KM[kv] * km, 2), s_nom=s_nom,
                             length_km=float(km), build_year=by, carrier=f"AC{kv}"))
    return pd.DataFrame(rows)


def build_transformers() -> pd.DataFrame:
    rows = []
    for stem, b0, b1, n, mva, by, _ in TRANSFORMERS:
        for i in range(1, n + 1):
            rows.append(dict(name=f"{stem}_T{i}", bus0=b0, bus1=b1, x=TRANSFORMER_X_PU, s_nom=mva, tap_ratio=1.0,
                             build_year=by))
    return pd.DataFrame(rows)


def build_links() -> pd.DataFrame:
    rows = []
    for name, b0, b1, p_nom, pmin, eff, mc, km, by, carrier, *_ in LINKS:
        rows.append(dict(name=name, bus0=b0, bus1=b1, p_nom=p_nom, p_min_pu=pmin, efficiency=eff,
                         efficiency_reverse=eff if pmin < 0 else np.nan, marginal_cost=mc, length_km=km,
                         build_year=by, carrier=carrier))
    return pd.DataFrame(rows)


def build_interfaces(lines: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    members = []
    sc_cq = [n for n in lines.name if n.startswith(("HONGBAN_", "HUANGWAN_", "SCCQ_THIRD_", "UHV_TIANFU_TONGLIANG_"))]
    ganzi = [n for n in lines.name if n.startswith(("SC_W_SC_CD_", "SC_W_SC_LY_", "SC_W_SC_PX_", "UHV_GANZI_TIANFU_"))]
    regions = dict((b[0], b[1]) for b in BUSES)
    zone_of = {"UHV_TIANFU_S": "Sichuan", "UHV_GANZI": "SC_W"}
    lines_i = lines.set_index("name")
    for n in sc_cq:
        b0 = lines_i.at[n, "bus0"]
        members.append(("SC_CQ", n, 1.0 if regions[b0] == "Sichuan" else -1.0))
    for n in ganzi:
        b0 = lines_i.at[n, "bus0"]
        members.append(("GANZI_OUT", n, 1.0 if b0 in ("SC_W", "UHV_GANZI") or zone_of.get(b0) == "SC_W" else -1.0))
    interfaces = pd.DataFrame([
        ("SC_CQ", SC_CQ_MW, SC_CQ_MW, "Sichuan to Chongqing transfer capability: 500 kV Hongban, Huangwan, third channel "
         "and 1000 kV Tianfu South-Tongliang; about 6 GW before the UHV project plus up to 4 GW [S1][S25], EST"),
        ("GANZI_OUT", GANZI_OUT_MW, GANZI_OUT_MW, "Ganzi outlet: 500 kV capability 11,350 MW [S61d] plus 4,800 MW from the "
         "1000 kV project [S1]; reverse limit set equal, EST"),
    ], columns=["name", "limit_mw", "limit_reverse_mw", "description"])
    return interfaces, pd.DataFrame(members, columns=["interface", "branch", "coefficient"])


def coal_fleets(gem: pd.DataFrame) -> pd.DataFrame:
    coal = gem[gem.type == "coal"].copy()
    coal["size"] = np.where(coal.MW >= 600, "large", "small")
    coal["hr"] = np.select([coal.MW >= 1000, coal.MW >= 600, coal.MW >= 300], [8.73, 8.87, 9.18], 11.0)
    rows = []
    for region, zones, target in (("Sichuan", SC_ZONES, SC_THERMAL_MW), ("Chongqing", CQ_ZONES, CQ_THERMAL_MW)):
        sub = coal[coal.zone.isin(zones)]
        gas_2025 = gas_units(gem)
        gas_mw = gas_2025[(gas_2025.zone.isin(zones)) & (gas_2025.build_year <= YEAR)].MW.sum()
        scale = (target - gas_mw) / sub.MW.sum()
        for (zone, size), g in sub.groupby(["zone", "size"], sort=True):
            hr = float(np.average(g.hr, weights=g.MW))
            rows.append(dict(name=f"{zone}_coal_{size}", bus=zone, carrier="coal", p_nom=round(g.MW.sum() * scale, 1),
                             gem_mw=g.MW.sum(), scale=scale, heat_rate=round(hr, 3), size=size))
    return pd.DataFrame(rows)


def gas_units(gem: pd.DataFrame) -> pd.DataFrame:
    gas = gem[gem.type.str.startswith("gas")].copy()
    by, hr = [], []
    for _, r in gas.iterrows():
        over = next((v for k, v in GAS_PLANTS.items() if r.plant.startswith(k)), None)
        if over is not None and (r.type == "gas_cons"):
            year, mw, h = over
            by.append(year)
            hr.append(h)
            if mw is not None:
                gas.loc[_, "MW"] = mw
        elif r.type == "gas_cons":
            by.append(2026)   # remaining under-construction units EST
            hr.append(GAS_SMALL_HR if r.MW < 200 else GAS_CCGT_HR)
        else:
            by.append(0)
            hr.append(GAS_SMALL_HR if r.MW < 200 else GAS_CCGT_HR)
    gas["build_year"] = by
    gas["hr"] = hr
    return gas


def build_generators(inp: dict) -> tuple[pd.DataFrame, dict]:
    gem = inp["gem"]
    info: dict = {}
    rows = []
    # coal
    cf = coal_fleets(gem)
    info["coal_scale"] = cf.groupby(cf.bus.str[:2]).scale.first().to_dict()
    for _, r in cf.iterrows():
        large = r["size"] == "large"
        rows.append(dict(name=r["name"], bus=r.bus, carrier="coal", p_nom=r.p_nom, p_min_pu=0.40 if large else 0.50,
                         committable=True, start_up_cost=250.0 if large else 150.0, ramp_limit_up=0.5,
                         ramp_limit_down=0.5, marginal_cost=25.0, fuel_price=COAL_PRICE_CNY_PER_GJ,
                         heat_rate=r.heat_rate, co2_t_per_mwh=round(r.heat_rate * COAL_CO2_T_PER_GJ, 3),
                         provides_reserve=True, build_year=0,
                         description=f"coal units {'>= 600' if large else '< 600'} MW; GEM {r.gem_mw:.0f} MW x {r.scale:.3f} "
                                     f"to the provincial thermal total"))
    # gas
    gas = gas_units(gem)
    for (zone, by), g in gas.groupby(["zone", "build_year"], sort=True):
        hr = float(np.average(g.hr, weights=g.MW))
        name = f"{zone}_gas" if by <= YEAR else f"{zone}_gas_{by}"
        plants = ", ".join(sorted({p.replace(" power station", "").replace(" power project", "") for p in g.plant}))
        rows.append(dict(name=name, bus=zone, carrier="gas", p_nom=round(g.MW.sum(), 1), p_min_pu=0.40, committable=True,
                         start_up_cost=80.0, ramp_limit_up=0.8, ramp_limit_down=0.8, marginal_cost=15.0,
                         fuel_price=0.0, gas_node=GAS_NODE_OF_ZONE[zone], heat_rate=round(hr, 3),
                         co2_t_per_mwh=round(hr * GAS_CO2_T_PER_GJ, 3), provides_reserve=True,
                         build_year=int(by), description=f"gas: {plants}"))
    # run-of-river hydro by zone
    hyd = gem[gem.type == "hydro"].copy()
    hyd["short"] = hyd.plant.str.replace(" hydroelectric plant", "", regex=False)
    res_names = set(GEM_NAME.values())
    hyd = hyd[~hyd.short.isin(res_names) & (hyd.short != "Jinsha")]
    ror = hyd.groupby("zone").MW.sum()
    unmapped = ror.pop("SI_?") if "SI_?" in ror else 0.0
    res_by_zone = pd.Series({r[2]: 0.0 for r in RESERVOIRS})
    for r in RESERVOIRS:
        res_by_zone[r[2]] += r[4]
    info["ror_gem"] = ror.to_dict()
    for region, zones, target in (
            ("Sichuan", SC_ZONES, SC_HYDRO_OFFICIAL_MW - 0.5 * (sum(r[4] for r in RESERVOIRS if r[2].startswith("JS_"))
                                                               + sum(JS_UPPER_PLANTS.values()) + GUANYINYAN_MW)
             - JINSHA_MID_SC_MW),
            ("Chongqing", CQ_ZONES, CQ_HYDRO_MW)):
        base = pd.Series({z: float(ror.get(z, 0.0)) for z in zones})
        if region == "Sichuan":
            base += unmapped * base / base.sum()
        res_mw = sum(res_by_zone.get(z, 0.0) for z in zones)
        gap = target - res_mw - base.sum()
        weight = base + 300.0
        add = gap * weight / weight.sum()
        info[f"ror_gap_{region}"] = gap
        info[f"hydro_internal_{region}"] = target
        for z in zones:
            mw = round(base[z] + add[z], 1)
            rows.append(dict(name=f"{z}_hydro", bus=z, carrier="hydro", p_nom=mw, build_year=0,
                             description=f"run-of-river and small hydro not modelled as reservoirs: GEM {base[z]:.0f} MW "
                                         f"+ {add[z]:.0f} MW EST share of the gap to the provincial total"))
    rows.append(dict(name="SC_PX_hydro_jinsha_mid", bus="SC_PX", carrier="hydro",
                     p_nom=JINSHA_MID_SC_MW + 0.5 * GUANYINYAN_MW, build_year=0,
                     description="Jinsha middle: Jinsha 560 MW, Yinjiang 390 MW and half of Guanyinyan (3,000 MW, border) [S37][S32]"))
    rows.append(dict(name="JS_UPPER_hydro", bus="JS_UPPER", carrier="hydro", p_nom=sum(JS_UPPER_PLANTS.values()),
                     build_year=0, description="Jinsha upper: Suwalong 1,200, Batang 750, Yebatan 2,440 MW [S37]"))
    rows.append(dict(name="JS_UPPER_hydro_lawa", bus="JS_UPPER", carrier="hydro", p_nom=LAWA_MW, build_year=2026,
                     description="Lawa 2,000 MW under construction [S37]; in service year EST"))
    # wind and PV
    for z, s in WIND_SPLIT.items():
        total = SC_WIND_MW if z.startswith("SC") else CQ_WIND_MW
        rows.append(dict(name=f"{z}_wind", bus=z, carrier="wind", p_nom=round(total * s, 1), build_year=0,
                         description=f"onshore wind fleet, {s:.0%} of the provincial total EST; CF target {WIND_CF[z]:.2f}"))
    for z, s in PV_SPLIT.items():
        total = SC_PV_MW if z.startswith("SC") else CQ_PV_MW
        kind = "plateau/mountain" if z in PLATEAU else "basin"
        rows.append(dict(name=f"{z}_pv", bus=z, carrier="pv", p_nom=round(total * s, 1), build_year=0,
                         description=f"{kind} PV fleet, {s:.0%} of the provincial total EST; CF target {PV_CF[z]:.2f}"))
    cols = ["name", "bus", "carrier", "p_nom", "p_min_pu", "committable", "start_up_cost", "ramp_limit_up",
            "ramp_limit_down", "marginal_cost", "fuel_price", "heat_rate", "co2_t_per_mwh", "gas_node",
            "provides_reserve", "build_year", "description"]
    df = pd.DataFrame(rows)
    df["gas_node"] = df["gas_node"].fillna("")
    df["committable"] = df["committable"].fillna(False).astype(bool)
    df["provides_reserve"] = df["provides_reserve"].fillna(False).astype(bool)
    for c, d in (("p_min_pu", 0.0), ("start_up_cost", 0.0), ("marginal_cost", 0.0), ("fuel_price", 0.0),
                 ("heat_rate", 0.0), ("co2_t_per_mwh", 0.0)):
        df[c] = df[c].fillna(d)
    df["build_year"] = df["build_year"].astype(int)
    return df[cols], info


def reservoir_flows(dams: pd.DataFrame) -> pd.DataFrame:
    """Production coefficient, mean flow, increment and implied energy per reservoir."""
    water = dams.set_index("dam")["water_consumption_m3_per_kwh_avg"]
    recs = {}
    upstream: dict[str, list[str]] = {}
    for r in RESERVOIRS:
        if r[10]:
            upstream.setdefault(r[10], []).append(r[0])
    order = []
    done: set[str] = set()

    def visit(n: str) -> None:
        if n in done:
            return
        for u in upstream.get(n, []):
            visit(u)
        done.add(n)
        order.append(n)

    for r in RESERVOIRS:
        visit(r[0])
    spec = {r[0]: r for r in RESERVOIRS}
    for n in order:
        (name, dam, bus, river, p_nom, head, vmax, vreg, mode, value, down, delay, by, seasonal, src) = spec[n]
        if dam is not None:
            k = 3.6 / float(water[dam])
            k_src = "dams file"
        else:
            k = 9.81 * 0.9 * head / 1000.0
            k_src = f"head {head} m EST"
        up_q = sum(recs[u]["q_mean"] for u in upstream.get(n, []))
        if mode == "energy_twh":
            q = value * 1e6 / (k * HOURS)
        elif mode == "q_mean":
            q = float(value)
        else:
            q = up_q + float(value)
        incr = max(q - up_q, MIN_INCREMENT)
        q = up_q + incr
        recs[n] = dict(k=k, k_src=k_src, q_mean=q, incr=incr, energy_twh=k * q * HOURS / 1e6, mode=mode)
    return pd.DataFrame.from_dict(recs, orient="index").loc[[r[0] for r in RESERVOIRS]]


def build_reservoirs(inp: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    flows = reservoir_flows(inp["dams"])
    rows = []
    for (name, dam, bus, river, p_nom, head, vmax, vreg, mode, value, down, delay, by, seasonal, src) in RESERVOIRS:
        f = flows.loc[name]
        vmin = vmax - vreg
        rule = RULE_SEASONAL if seasonal else RULE_DAILY
        rows.append(dict(name=name, bus=bus, river=river, p_nom=float(p_nom), production_mw_per_m3s=round(f.k, 4),
                         volume_min_hm3=float(vmin), volume_max_hm3=float(vmax),
                         volume_initial_hm3=round(vmin + rule["target"][0] * vreg, 1),
                         eco_flow_min_m3s=round(ECO_FLOW_SHARE * f.q_mean, 1), downstream=down,
                         delay_hours=int(delay), build_year=int(by)))
    return pd.DataFrame(rows), flows


def build_storage_units() -> pd.DataFrame:
    return pd.DataFrame([dict(name=n, bus=b, carrier="phs", p_nom=p, max_hours=h, efficiency_store=PHS_EFFICIENCY,
                              efficiency_dispatch=PHS_EFFICIENCY, cyclic_state_of_charge=True, build_year=by)
                         for n, b, p, h, by, _ in STORAGE_UNITS])


def build_markets() -> pd.DataFrame:
    return pd.DataFrame([dict(name=n, bus=b, buy_max_mw=bm, sell_max_mw=sm, buy_price=bp, sell_price=sp, co2_t_per_mwh=co2)
                         for n, b, bm, sm, bp, sp, co2, _ in MARKETS])


def bcm_to_mm3h(bcm: float) -> float:
    return bcm * 1000.0 / HOURS


def build_gas_tables() -> dict[str, pd.DataFrame]:
    nodes = pd.DataFrame(GAS_NODES, columns=["name", "region", "x", "y"])
    supplies = pd.DataFrame([dict(name=n, node=nd, kind=k, capacity_mm3_per_h=round(bcm_to_mm3h(b) * SUPPLY_HEADROOM, 4),
                                  cost_cny_per_kcm=c, build_year=by) for n, nd, k, b, c, by in GAS_SUPPLIES])
    pipes = pd.DataFrame([dict(name=n, node0=a, node1=b, capacity_mm3_per_h=round(bcm_to_mm3h(c), 4),
                               capacity_reverse_mm3_per_h=round(bcm_to_mm3h(cr), 4), efficiency=e, cost_cny_per_kcm=t,
                               length_km=km, build_year=by) for n, a, b, c, cr, e, t, km, by in PIPELINES])
    stor = []
    for n, nd, wg, wd, ini, fin, by in GAS_STORAGES:
        w = wd / 24.0
        stor.append(dict(name=n, node=nd, working_gas_mm3=round(wg, 1), injection_max_mm3_per_h=round(w * 2 / 3, 4),
                         withdrawal_max_mm3_per_h=round(w, 4), inventory_initial_mm3=round(ini * wg, 1), cyclic=False,
                         inventory_final_min_mm3=round(fin * wg, 1), build_year=by))
    dem = []
    for nd, (res, ind) in GAS_DEMAND_BCM.items():
        dem.append(dict(name=f"{nd}_residential", node=nd, kind="residential", demand_mm3_per_h=round(bcm_to_mm3h(res), 4)))
        dem.append(dict(name=f"{nd}_industry", node=nd, kind="industry", demand_mm3_per_h=round(bcm_to_mm3h(ind), 4)))
    dem.append(dict(name="GAS_EAST_export", node="GAS_EAST", kind="export",
                    demand_mm3_per_h=round(bcm_to_mm3h(GAS_EXPORT_BCM), 4)))
    return dict(gas_nodes=nodes, gas_supplies=supplies, pipelines=pipes, gas_storages=pd.DataFrame(stor),
                gas_demands=pd.DataFrame(dem))


# ============================================================================================
# time series
# ============================================================================================
def build_load(inp: dict, info: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = inp["load"]
    # map each 2025 day to the 2018 day of the same weekday (2025-01-01 Wed = 2018-01-03 Wed)
    days = np.arange(365) + 2
    days[days > 364] -= 7
    idx = (days[:, None] * 24 + np.arange(24)[None, :]).ravel()
    firm, intr = {}, {}
    for region, col in (("Sichuan", "sichuan_mw"), ("Chongqing", "chongqing_mw")):
        x = raw[col].to_numpy()[idx]
        x = x / x.max()
        e_twh, peak = LOAD_TARGET[region]
        lf = e_twh * 1e6 / (peak * HOURS)
        # L = peak * x^k with k solving mean(x^k) = LF (mean decreases in k)
        k = bisect(lambda kk: -np.mean(x ** kk), 0.05, 5.0, -lf)
        load = peak * x ** k
        info[f"load_k_{region}"] = k
        share = INTERRUPTIBLE_SHARE[region]
        monthly_mean = pd.Series(load, index=SNAPSHOTS).groupby(SNAPSHOTS.month).transform("mean").to_numpy()
        interruptible = share * (0.6 * monthly_mean + 0.4 * load)
        zones = SC_ZONES if region == "Sichuan" else CQ_ZONES
        for z in zones:
            firm[z] = np.round(ZONE_LOAD_SHARE[z] * (load - interruptible), 1)
            intr[z] = np.round(ZONE_LOAD_SHARE[z] * interruptible, 1)
    return pd.DataFrame(firm, index=SNAPSHOTS), pd.DataFrame(intr, index=SNAPSHOTS)


def solar_clear_sky(lon: float, lat: float) -> np.ndarray:
    """Hour-mean clear-sky shape: sin(solar elevation)^1.2 at mid-hour, local clock = UTC+8."""
    t = np.arange(HOURS) + 0.5
    doy = t / 24.0 + 1.0
    decl = np.radians(23.45) * np.sin(2 * np.pi * (284 + doy) / 365.0)
    b = 2 * np.pi * (doy - 81) / 364.0
    eot_min = 9.87 * np.sin(2 * b) - 7.53 * np.cos(b) - 1.5 * np.sin(b)
    solar_time = (t % 24.0) + (lon - 120.0) / 15.0 + eot_min / 60.0
    h = np.radians(15.0 * (solar_time - 12.0))
    phi = np.radians(lat)
    sin_el = np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(h)
    return np.clip(sin_el, 0.0, None) ** 1.2


# Monthly clearness shapes (relative), EST: the basin is foggy in winter; the plateau is clear in
# the dry season and cloudy in the monsoon.
CLEAR_BASIN = [0.55, 0.60, 0.72, 0.80, 0.85, 0.80, 0.92, 0.95, 0.75, 0.60, 0.55, 0.50]
CLEAR_PLATEAU = [1.00, 1.00, 0.95, 0.90, 0.85, 0.70, 0.65, 0.68, 0.70, 0.85, 0.98, 1.00]
WIND_MONTH = [1.10, 1.15, 1.15, 1.10, 1.00, 0.90, 0.85, 0.85, 0.90, 0.95, 1.00, 1.05]


def build_pv(gens: pd.DataFrame, info: dict) -> pd.DataFrame:
    rng = np.random.default_rng(SEED + 1)
    coords = {b[0]: (b[3], b[4]) for b in BUSES}
    common = {"basin": ar1(rng, 365, 0.6), "plateau": ar1(rng, 365, 0.6)}
    m = month_index()
    out = {}
    for _, g in gens[gens.carrier == "pv"].iterrows():
        z = g.bus
        kind = "plateau" if z in PLATEAU else "basin"
        lon, lat = coords[z]
        clear = solar_clear_sky(lon, lat)
        z_day = 0.75 * common[kind] + math.sqrt(1 - 0.75 ** 2) * ar1(rng, 365, 0.6)
        sigma = 0.45 if kind == "basin" else 0.30
        cloud_day = np.exp(sigma * z_day - 0.5 * sigma * sigma)
        hourly = 1.0 + 0.08 * ar1(rng, HOURS, 0.7)
        month_shape = np.array(CLEAR_BASIN if kind == "basin" else CLEAR_PLATEAU)[m]
        base = clear * np.repeat(cloud_day, 24) * month_shape * np.clip(hourly, 0.6, 1.4)
        base = np.where(clear > 0, base, 0.0)
        c = bisect(lambda cc: np.minimum(cc * base, 1.0).mean(), 0.01, 50.0, PV_CF[z])
        out[g["name"]] = np.round(np.minimum(c * base, 1.0), 3)
    df = pd.DataFrame(out, index=SNAPSHOTS)
    info["pv_cf"] = df.mean().round(4).to_dict()
    return df


def build_wind(gens: pd.DataFrame, info: dict) -> pd.DataFrame:
    rng = np.random.default_rng(SEED + 2)
    m = month_index()
    hod = SNAPSHOTS.hour.to_numpy()
    common_x, common_y = ar1(rng, HOURS, 0.985), ar1(rng, HOURS, 0.985)
    out = {}
    for _, g in gens[gens.carrier == "wind"].iterrows():
        z = g.bus
        a = 0.6
        x = a * common_x + math.sqrt(1 - a * a) * ar1(rng, HOURS, 0.985)
        y = a * common_y + math.sqrt(1 - a * a) * ar1(rng, HOURS, 0.985)
        mag = np.sqrt(0.5 * (x * x + y * y))       # Rayleigh with unit mean square
        diurnal = 1.0 + 0.08 * np.cos(2 * np.pi * (hod - 2) / 24.0)   # stronger at night EST
        shape = mag * np.array(WIND_MONTH)[m] * diurnal

        def power(scale: float) -> np.ndarray:
            v = scale * shape
            p = np.clip((v ** 3 - 27.0) / (12.0 ** 3 - 27.0), 0.0, 1.0)
            return np.where(v > 25.0, 0.0, p)

        s = bisect(lambda ss: power(ss).mean(), 1.0, 40.0, WIND_CF[z])
        out[g["name"]] = np.round(power(s), 3)
    df = pd.DataFrame(out, index=SNAPSHOTS)
    info["wind_cf"] = df.mean().round(4).to_dict()
    return df


def hydro_shape(avail: np.ndarray, rng: np.random.Generator, sigma: float, phi: float = 0.85) -> np.ndarray:
    """Hourly availability through the monthly means with a smooth daily log-normal noise, mean preserved."""
    base = mid_month_curve(list(avail))
    noise = np.exp(sigma * ar1(rng, 366, phi) - 0.5 * sigma * sigma)
    return base * daily_to_hourly(noise)


def build_hydro_pmax(gens: pd.DataFrame, inp: dict, info: dict) -> pd.DataFrame:
    rng = np.random.default_rng(SEED + 3)
    avail = inp["hydro_avail"]["mean_p_max_pu"].to_numpy()
    out = {}
    for _, g in gens[gens.carrier == "hydro"].iterrows():
        s = hydro_shape(avail, rng, 0.10)
        s = s * avail.mean() / s.mean()
        out[g["name"]] = np.round(np.clip(s, 0.03, 1.0), 3)
    df = pd.DataFrame(out, index=SNAPSHOTS)
    info["ror_cf"] = df.mean().round(4).to_dict()
    return df


def build_thermal_pmax(gens: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Maintenance derates (p_max_pu) and winter must-run of heat-led coal CHP, EST."""
    coal_m = [0.95, 0.92, 0.90, 0.80, 0.80, 0.88, 0.95, 0.95, 0.90, 0.80, 0.85, 0.95]
    gas_m = [0.95, 0.95, 0.92, 0.85, 0.90, 0.95, 0.95, 0.95, 0.95, 0.85, 0.92, 0.95]
    out = {}
    for _, g in gens[gens.carrier.isin(["coal", "gas"])].iterrows():
        out[g["name"]] = np.round(mid_month_curve(coal_m if g.carrier == "coal" else gas_m), 3)
    pmax = pd.DataFrame(out, index=SNAPSHOTS)
    must = {}
    winter = [0.35, 0.35, 0.25, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.25, 0.35]
    for name in ("SC_CD_coal_large", "CQ_C_coal_small", "CQ_SE_coal_small"):
        if name in set(gens.name):
            must[name] = np.round(monthly_anchor_curve(winter), 3)
    return pmax, pd.DataFrame(must, index=SNAPSHOTS)


def build_inflows(res: pd.DataFrame, flows: pd.DataFrame, inp: dict, info: dict) -> pd.DataFrame:
    rng = np.random.default_rng(SEED + 4)
    avail = inp["hydro_avail"]["mean_p_max_pu"].to_numpy()
    rivers = {}
    out = {}
    for _, r in res.iterrows():
        if r.river not in rivers:
            rivers[r.river] = ar1(rng, 366, 0.85)
        z = 0.8 * rivers[r.river] + 0.6 * ar1(rng, 366, 0.85)
        sigma = 0.15
        noise = daily_to_hourly(np.exp(sigma * z - 0.5 * sigma * sigma))
        shape = mid_month_curve(list(avail)) * noise
        shape = shape / shape.mean()
        out[r["name"]] = np.round(flows.at[r["name"], "incr"] * shape, 1)
    df = pd.DataFrame(out, index=SNAPSHOTS)
    # implied energy: constant-head output of the mean total flow, and capped at p_nom hour by hour
    total = {}
    order = list(res.name)
    ups = res.groupby("downstream").name.apply(list).to_dict()

    def tot(n: str) -> np.ndarray:
        if n not in total:
            total[n] = df[n].to_numpy() + sum((tot(u) for u in ups.get(n, [])), np.zeros(HOURS))
        return total[n]

    e_mean, e_cap = {}, {}
    for n in order:
        k = res.set_index("name").at[n, "production_mw_per_m3s"]
        p = res.set_index("name").at[n, "p_nom"]
        e_mean[n] = k * tot(n).mean() * HOURS / 1e6
        e_cap[n] = np.minimum(k * tot(n), p).sum() / 1e6
    info["hydro_energy_mean_twh"] = e_mean
    info["hydro_energy_capped_twh"] = e_cap
    return df


def build_rule_curves(res: pd.DataFrame) -> dict[str, pd.DataFrame]:
    seasonal = {r[0]: r[13] for r in RESERVOIRS}
    out = {"volume_min_rule_hm3": {}, "volume_max_rule_hm3": {}, "volume_target_hm3": {}}
    for _, r in res.iterrows():
        rule = RULE_SEASONAL if seasonal[r["name"]] else RULE_DAILY
        reg = r.volume_max_hm3 - r.volume_min_hm3
        for key, series in (("min", "volume_min_rule_hm3"), ("max", "volume_max_rule_hm3"), ("target", "volume_target_hm3")):
            out[series][r["name"]] = np.round(r.volume_min_hm3 + reg * monthly_anchor_curve(rule[key]), 2)
    return {k: pd.DataFrame(v, index=SNAPSHOTS) for k, v in out.items()}


def build_contracts(links: pd.DataFrame, info: dict) -> pd.DataFrame:
    m = month_index()
    factor = np.array([0.6, 0.6, 0.6, 0.6, 0.9, 1.3, 1.3, 1.3, 1.3, 1.3, 0.9, 0.6])
    shape = mid_month_curve(list(factor))
    shape = shape / shape.mean()
    out = {}
    info["contracts_twh"] = {}
    for name, b0, b1, p_nom, *_rest in LINKS:
        energy, share = _rest[-3], _rest[-2]
        if energy is None:
            continue
        mean_mw = energy * share * 1e6 / HOURS
        c = np.minimum(mean_mw * shape, 0.95 * p_nom)
        out[name] = np.round(c, 1)
        info["contracts_twh"][name] = c.sum() / 1e6
    del m
    return pd.DataFrame(out, index=SNAPSHOTS)


def price_shape(kind: str) -> np.ndarray:
    hod = SNAPSHOTS.hour.to_numpy()
    tou = np.ones(24)
    tou[[23, 0, 1, 2, 3, 4, 5, 6]] = 0.75      # valley EST
    tou[[8, 9, 10, 11, 17, 18, 19, 20, 21]] = 1.20   # peak EST
    tou = tou / tou.mean()
    if kind == "tibet":
        season = [1.30, 1.30, 1.20, 1.10, 1.00, 0.80, 0.70, 0.70, 0.75, 0.90, 1.10, 1.25]
    elif kind == "flat":
        season = [1.0] * 12
        tou = 1.0 + 0.25 * (tou - 1.0)
    else:
        season = [1.05, 1.00, 0.95, 0.93, 0.95, 1.00, 1.08, 1.10, 1.00, 0.95, 0.97, 1.05]
    s = mid_month_curve(season) * tou[hod]
    return s / s.mean()


def build_prices() -> tuple[pd.DataFrame, pd.DataFrame]:
    buy, sell = {}, {}
    for n, b, bm, sm, bp, sp, co2, kind in MARKETS:
        shape = price_shape(kind)
        if bm > 0:
            buy[n] = np.round(bp * shape, 2)
        if sm > 0:
            sell[n] = np.round(sp * shape, 2)
    return pd.DataFrame(buy, index=SNAPSHOTS), pd.DataFrame(sell, index=SNAPSHOTS)


def build_gas_demand(gas: dict[str, pd.DataFrame]) -> pd.DataFrame:
    doy = DAY_NOON / 24.0   # seasonal factors step once a day
    hod = SNAPSHOTS.hour.to_numpy()
    dow = SNAPSHOTS.day_of_week.to_numpy()
    res_day = np.array([0.55, 0.50, 0.48, 0.48, 0.55, 0.75, 1.15, 1.45, 1.30, 1.05, 1.05, 1.30,
                        1.25, 0.95, 0.90, 0.90, 1.00, 1.30, 1.55, 1.50, 1.30, 1.05, 0.85, 0.65])
    res_day = res_day / res_day.mean()
    residential = (1.0 + 0.45 * np.cos(2 * np.pi * (doy - 15.0) / 365.0)) * res_day[hod]
    spring_festival = (SNAPSHOTS >= "2025-01-28") & (SNAPSHOTS < "2025-02-05")
    industry = (1.0 + 0.05 * np.cos(2 * np.pi * (doy - 15.0) / 365.0)) * np.where(dow >= 5, 0.92, 1.0)
    industry = industry * np.where(spring_festival, 0.70, 1.0)
    export = 1.0 + 0.15 * np.cos(2 * np.pi * (doy - 15.0) / 365.0)
    shapes = {"residential": residential / residential.mean(), "industry": industry / industry.mean(),
              "export": export / export.mean()}
    out = {}
    for _, d in gas["gas_demands"].iterrows():
        out[d["name"]] = np.round(d.demand_mm3_per_h * shapes[d.kind], 4)
    return pd.DataFrame(out, index=SNAPSHOTS)


# ============================================================================================
def build(series_out: Path, network_out: Path | None, verbose: bool = True) -> dict:
    inp = read_inputs()
    info: dict = {}
    buses = build_buses()
    lines = build_lines(buses)
    transformers = build_transformers()
    links = build_links()
    interfaces, members = build_interfaces(lines)
    gens, ginfo = build_generators(inp)
    info.update(ginfo)
    res, flows = build_reservoirs(inp)
    # cascade pairs of the input file that lie inside the case must agree with ours
    names = set(res.name)
    down = dict(zip(res.name, res.downstream))
    for _, c in inp["cascade"].iterrows():
        if c.upstream_dam in names and c.downstream_dam in names:
            a, b = c.upstream_dam, c.downstream_dam
            seen = []
            while a and a != b and a not in seen:
                seen.append(a)
                a = down.get(a, "")
            assert a == b, f"cascade order disagrees with the input pair {c.upstream_dam}->{c.downstream_dam}"
    tables = dict(buses=buses, lines=lines, transformers=transformers, links=links, interfaces=interfaces,
                  interface_members=members, generators=gens, storage_units=build_storage_units(),
                  reservoirs=res, markets=build_markets())
    tables.update(build_gas_tables())

    series: dict[str, pd.DataFrame] = {}
    series["load_firm_mw"], series["load_interruptible_mw"] = build_load(inp, info)
    pv = build_pv(gens, info)
    wind = build_wind(gens, info)
    ror = build_hydro_pmax(gens, inp, info)
    tpmax, must = build_thermal_pmax(gens)
    series["p_max_pu"] = pd.concat([pv, wind, ror, tpmax], axis=1)
    series["must_run_pu"] = must
    series["inflow_m3s"] = build_inflows(res, flows, inp, info)
    series.update(build_rule_curves(res))
    series["contract_min_mw"] = build_contracts(links, info)
    series["buy_price"], series["sell_price"] = build_prices()
    series["gas_demand_mm3_per_h"] = build_gas_demand(tables)
    series["weighting"] = pd.DataFrame({"weighting": np.ones(HOURS)}, index=SNAPSHOTS)

    series_out.mkdir(parents=True, exist_ok=True)
    for name, df in series.items():
        write_parquet(df, series_out / f"{name}.parquet")
    if network_out is not None:
        network_out.mkdir(parents=True, exist_ok=True)
        for name, df in tables.items():
            write_csv(df, network_out / f"{name}.csv")
    info["flows"] = flows
    info["tables"] = tables
    info["series"] = series
    if verbose:
        report(info)
    return info


def report(info: dict) -> None:
    s = info["series"]
    t = info["tables"]
    firm, intr = s["load_firm_mw"], s["load_interruptible_mw"]
    print("Calibration")
    for region, zones in (("Sichuan", SC_ZONES), ("Chongqing", CQ_ZONES)):
        tot = firm[zones].sum(axis=1) + intr[zones].sum(axis=1)
        print(f"  load {region}: {tot.sum() / 1e6:.2f} TWh, peak {tot.max() / 1e3:.2f} GW at {tot.idxmax()}, "
              f"load factor {tot.mean() / tot.max():.3f}, exponent k {info[f'load_k_{region}']:.3f}, "
              f"interruptible {intr[zones].sum().sum() / 1e6:.1f} TWh")
    print("  PV CF:", info["pv_cf"])
    print("  wind CF:", info["wind_cf"])
    print("  run-of-river CF:", {k: v for k, v in list(info["ror_cf"].items())[:3]}, "...")
    print("  coal scale (GEM -> provincial):", {k: round(v, 3) for k, v in info["coal_scale"].items()})
    fl = info["flows"]
    fl = fl.assign(e_capped=pd.Series(info["hydro_energy_capped_twh"]))
    with pd.option_context("display.width", 200, "display.max_rows", 100):
        print(fl.round(3))
    print(f"  reservoir energy, mean flow x k: {fl.energy_twh.sum():.1f} TWh; capped at p_nom hourly: {fl.e_capped.sum():.1f} TWh")
    print("  export contracts TWh:", {k: round(v, 2) for k, v in info["contracts_twh"].items()})
    g = t["generators"]
    bus_region = t["buses"].set_index("name").region
    g = g.assign(region=g.bus.map(bus_region))
    act = g[g.build_year <= YEAR]
    print("  capacity in service 2025 (MW) by region and carrier:")
    print(act.groupby(["region", "carrier"]).p_nom.sum().unstack(0).round(0))
    r = t["reservoirs"].assign(region=lambda d: d.bus.map(bus_region))
    print("  reservoir MW by region:", r.groupby("region").p_nom.sum().to_dict())
    for k in ("buses", "lines", "transformers", "links", "generators", "reservoirs", "storage_units", "markets"):
        print(f"  {k}: {len(t[k])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for the Parquet series (default timeseries/sichuan_chongqing); "
                         "the network tables then go to OUT/network unless --network-out is given")
    ap.add_argument("--network-out", type=Path, default=None,
                    help="folder for the network CSV tables (default networks/sichuan_chongqing)")
    ap.add_argument("--quiet", action="store_true", help="do not print the calibration report")
    a = ap.parse_args()
    series_out = a.out if a.out is not None else SERIES_DIR
    network_out = a.network_out if a.network_out is not None else (NETWORK_DIR if a.out is None else a.out / "network")
    build(series_out, network_out, verbose=not a.quiet)


if __name__ == "__main__":
    main()
