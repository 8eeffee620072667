"""What a feature is: its column, unit, physical direction and words for the duty officer."""

from __future__ import annotations

from dataclasses import dataclass

# Words for the values of a coded input (the phase codes of `wxrisk.features.physics`): a driver
# "precipitation phase" says which one.
CODE_WORDS: dict[str, dict[int, tuple[str, str]]] = {
    "phase_code": {0: ("无降水", "none"), 1: ("雨", "rain"), 2: ("雪", "snow"), 3: ("冻雨", "freezing rain"),
                   4: ("雨夹雪", "sleet")},
}


@dataclass(frozen=True)
class FeatureSpec:
    """One model input.

    name     : column name, unit in the suffix (`fzra_mm_3h`, `road_temp_c`)
    unit     : unit shown to people (`mm`, `°C`, `×`), empty for flags and categories
    monotone : +1 if risk can never fall as it grows, -1 if it can never rise, 0 if free
    label_zh : Chinese words for the driver (`冻雨`)
    label_en : English words for the driver (`freezing rain`)
    decimals : digits shown with the value; None for a flag shown by its label alone
    """

    name: str
    unit: str
    monotone: int
    label_zh: str
    label_en: str
    decimals: int | None = 1

    def describe(self, value: float, lang: str = "zh") -> str:
        """The driver in words, e.g. `冻雨 2.1 mm`, `bridge` or `precipitation phase: snow`."""
        label = self.label_zh if lang == "zh" else self.label_en
        words = CODE_WORDS.get(self.name, {}).get(int(value)) if value == value else None
        if words is not None:
            return f"{label}：{words[0]}" if lang == "zh" else f"{label}: {words[1]}"
        if self.decimals is None or value != value:  # flags, and NaN (missing input)
            return label
        return f"{label} {value:.{self.decimals}f}{(' ' + self.unit) if self.unit and self.unit != '×' else self.unit}"
