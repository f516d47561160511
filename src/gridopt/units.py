"""Unit conversions used across gridopt, each stated once.

Water: volumes in hm3 (10^6 m3), flows in m3/s. Gas: the case's tables in Mm3 (10^6 m3) and Mm3/h, the LP in
kcm (1000 m3) and kcm/h, at China's reference conditions (20 C, 101.325 kPa). Power in MW, energy in MWh.
"""

from __future__ import annotations

HM3_PER_M3S_HOUR = 3600.0 / 1e6  # 0.0036 hm3 of water per (m3/s flowing for one hour)
MWH_PER_HM3_PER_MW_PER_M3S = 1.0 / HM3_PER_M3S_HOUR  # 277.8 MWh from 1 hm3 through 1 MW per m3/s
KCM_PER_MM3 = 1000.0  # 1000 m3 per million m3
