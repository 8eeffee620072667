"""The embedded demo world: the 2024 Spring Festival freezing-rain event on central China's expressways,
written as synthetic files in the CONTRACT formats (see docs/demo-world.md)."""

from wxrisk.scenario.world import ScenarioFiles, generate

__all__ = ["ScenarioFiles", "generate"]
