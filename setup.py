"""Packages of the wheel: `src/wxrisk`, plus the top-level `flows/` and `app/` folders shipped as
`wxrisk.flows` and `wxrisk.app` (so an installed wxrisk runs its flows and board from any folder).
Everything else about the project is in pyproject.toml."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages("src", include=["wxrisk*"]), "wxrisk.flows", "wxrisk.app",
              "wxrisk.app.app_pages"],
    package_dir={"": "src", "wxrisk.flows": "flows", "wxrisk.app": "app"},
)
