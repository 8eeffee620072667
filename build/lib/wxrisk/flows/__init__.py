"""Prefect flows: orchestration only; every task calls one `wxrisk` function."""
