"""wxrisk: extreme-weather road risk forecasting for expressway escort planning."""

__version__ = "0.1.0"
