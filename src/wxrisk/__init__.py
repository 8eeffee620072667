"""wxrisk: extreme-weather road risk forecasting for expressway escort planning."""

# PROJ (pyproj's bundled libproj and sqlite) must be loaded before ecCodes' bundled libraries: in the
# other order (anything that opens a grid with xarray loads cfgrib, hence ecCodes) the first
# coordinate transformation fails ("no database context specified") and the heap is corrupted.
import pyproj  # noqa: F401

__version__ = "0.1.0"
