"""Synthetic scenario worlds in the formats the importers read (docs/demo-world.md): the demo (central China, the
2024 Spring Festival freezing-rain event) and the Guizhou plateau. `generate` and `ScenarioFiles` load on
first use, so `python -m wxrisk.scenario.<module>` runs without importing the whole generator first."""

__all__ = ["ScenarioFiles", "generate"]


def __getattr__(name: str):
    if name in __all__:
        from wxrisk.scenario import world

        return getattr(world, name)
    raise AttributeError(f"module 'wxrisk.scenario' has no attribute {name!r}")
