"""Exchange formats: PyPSA networks in and out (CSV folders), MATPOWER cases in.

PyPSA is not needed by any of these: the CSV files and MATPOWER's .m files are read and written here.
Approximations are reported as `InteropWarning`s (one line each); unsupported features raise CaseError.
"""

from .common import Imported, InteropWarning
from .matpower import read_matpower
from .pypsa_in import read_pypsa
from .pypsa_out import export_pypsa

__all__ = ["Imported", "InteropWarning", "export_pypsa", "read_matpower", "read_pypsa"]
