"""Incident history: reading police and open-data exports into canonical `incidents`."""
