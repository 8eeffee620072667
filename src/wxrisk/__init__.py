"""wxrisk: extreme-weather road risk forecasting for expressway escort planning."""

import os

# PROJ (pyproj's bundled libproj and sqlite) must be loaded before ecCodes' bundled libraries: in the
# other order (anything that opens a grid with xarray loads cfgrib, hence ecCodes) the first
# coordinate transformation fails ("no database context specified") and the heap is corrupted.
import pyproj  # noqa: F401

# LightGBM's OpenMP threads share the two cores with the scoring path's features thread and
# DuckDB: threads that spin while waiting take the core from the one doing the work (a national
# board's score step: 35 -> 31 CPU s). Set before LightGBM loads OpenMP; the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
