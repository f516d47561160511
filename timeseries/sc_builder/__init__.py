"""Builder of the shipped ``sichuan_chongqing`` case, split by domain.

``common`` holds the calendar, curve functions and readers; ``grid``, ``thermal``, ``hydro``,
``renewables``, ``load``, ``markets`` and ``gas`` make the tables and series of their domain;
``generators`` assembles the generator table and ``build`` runs everything and prints the report.
"""

from .build import build

__all__ = ["build"]
