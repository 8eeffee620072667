"""The board's map as a pydeck Deck: province outlines, city names, the official warnings as a
halo, segments by risk tier, stretches.

Drawn with no base map by default (`map_provider=None`: Streamlit then loads no tiles); online
tiles (CARTO light) only when asked for.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pydeck as pdk

from wxrisk.boardview.geo import cities, graticule, min_span_deg, province_outlines
from wxrisk.boardview.i18n import k_stake, tier_label, warning_label
from wxrisk.levels import TIER_RGBA, WARNING_RANK, WARNING_RGBA

STRETCH_LAYER_ID = "stretches"
LAND_RGBA = [246, 244, 238, 255]
BORDER_RGBA = [150, 150, 160, 255]
# pydeck reads bare strings as JavaScript expressions: literal strings go in quotes.
PIXELS = '"pixels"'
CJK_FONT = '"Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif"'


def view_for(lons: pd.Series, lats: pd.Series, width_px: int = 900) -> pdk.ViewState:
    """A view centred on the points that fits them in `width_px`, at least `geo.min_span_deg` [°]
    across (regional context in China, the network itself elsewhere)."""
    if lons.empty:
        return pdk.ViewState(longitude=114.0, latitude=30.0, zoom=5)
    span_deg = max(float(lons.max() - lons.min()), float(lats.max() - lats.min()) * 1.3, min_span_deg(lons, lats))
    zoom = math.log2(width_px * 360 / (512 * span_deg * 1.2))  # deck.gl: 512 px per 360° at zoom 0
    return pdk.ViewState(longitude=float((lons.min() + lons.max()) / 2),
                         latitude=float((lats.min() + lats.max()) / 2), zoom=min(max(zoom, 3.5), 14.0))


def runs(segments: pd.DataFrame, level: pd.Series) -> pd.DataFrame:
    """Consecutive segments of one chain (touching K-stakes) at the same level, as one row each:
    `level, path` (joined), `road_ref, km_from, km_to`, and `first` (the riskiest segment's index).

    A map draws a few hundred runs instead of thousands of segments: the browser starts far faster.
    segments : `chain, road_ref, km_from, km_to, path`, optionally `risk`, in chain and K-stake order
    """
    if segments.empty:
        return pd.DataFrame(columns=["level", "path", "road_ref", "km_from", "km_to", "first"])
    chain = segments["chain"] if "chain" in segments else segments["road_ref"]
    km_from, km_to = segments["km_from"].to_numpy(float), segments["km_to"].to_numpy(float)
    level = level.to_numpy()
    new = np.r_[True, (chain.to_numpy()[1:] != chain.to_numpy()[:-1]) | (level[1:] != level[:-1])
                | (np.abs(km_from[1:] - km_to[:-1]) > 1e-6)]
    run = np.cumsum(new) - 1
    risk = segments["risk"].fillna(0.0).to_numpy(float) if "risk" in segments else np.zeros(len(segments))
    frame = pd.DataFrame({"run": run, "risk": risk, "index": segments.index})
    riskiest = frame.loc[frame.groupby("run")["risk"].idxmax(), "index"].to_numpy()
    paths: list[list] = [[] for _ in range(run[-1] + 1)]
    for r, path in zip(run, segments["path"], strict=True):
        paths[r].extend(path if not paths[r] else path[1:])
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(segments)] - 1
    return pd.DataFrame({
        "level": level[starts], "path": [[[round(x, 4), round(y, 4)] for x, y in p] for p in paths],
        "road_ref": segments["road_ref"].to_numpy()[starts], "km_from": km_from[starts], "km_to": km_to[ends],
        "first": riskiest,
    })


def _stakes(rows: pd.DataFrame) -> pd.Series:
    return rows["road_ref"].fillna("") + " " + rows["km_from"].map(k_stake) + "–" + rows["km_to"].map(k_stake)


def segment_rows(segments: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Rows for the PathLayer: runs of one tier with geometry, colour, width and tooltip text (the
    highest risk of the run and the drivers of its riskiest segment)."""
    merged = runs(segments, segments["tier"].fillna("none"))
    drivers = segments["top_drivers_en" if lang == "en" else "top_drivers"]
    risk = segments["risk"].fillna(0.0) if "risk" in segments else pd.Series(0.0, index=segments.index)
    return pd.DataFrame({
        "path": merged["path"],
        "color": [TIER_RGBA.get(tier, TIER_RGBA["none"]) for tier in merged["level"]],
        "width": [2 if tier == "none" else 6 for tier in merged["level"]],
        "title": _stakes(merged),
        "detail": [f"{tier_label(tier, lang)} · {risk[i]:.2%}" for tier, i in zip(merged["level"], merged["first"],
                                                                                   strict=True)],
        "drivers": [d if isinstance(d, str) else "" for d in drivers.loc[merged["first"]]],
    }).sort_values("width", kind="stable")


def warning_levels_of(segments: pd.DataFrame) -> pd.Series:
    """The higher of each segment's road-icing and visibility warning levels (`none` when absent)."""
    icing = segments.get("icing_warning", pd.Series("none", index=segments.index)).fillna("none")
    visibility = segments.get("visibility_warning", pd.Series("none", index=segments.index)).fillna("none")
    return pd.Series([a if WARNING_RANK.get(a, 0) >= WARNING_RANK.get(b, 0) else b
                      for a, b in zip(icing, visibility, strict=True)], index=segments.index)


def warning_rows(segments: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Rows for the warning halo: runs of segments under the same road-icing warning and visibility
    control at the hour, coloured by the higher level, both warnings named."""
    icing = segments.get("icing_warning", pd.Series("none", index=segments.index)).fillna("none")
    visibility = segments.get("visibility_warning", pd.Series("none", index=segments.index)).fillna("none")
    merged = runs(segments, icing + "|" + visibility)
    merged = merged[merged["level"] != "none|none"]
    if merged.empty:
        return pd.DataFrame(columns=["path", "color", "title", "detail", "drivers"])
    named = [" · ".join(w for w in (warning_label("icing", a, lang), warning_label("visibility", b, lang)) if w)
             for a, b in (level.split("|") for level in merged["level"])]
    higher = [max(level.split("|"), key=lambda lv: WARNING_RANK.get(lv, 0)) for level in merged["level"]]
    return pd.DataFrame({"path": merged["path"].to_numpy(), "color": [WARNING_RGBA[lv] for lv in higher],
                         "title": _stakes(merged).to_numpy(), "detail": named, "drivers": ""})


def stretch_rows(stretches: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Rows for the stretch markers: position, colour, radius and tooltip text."""
    return pd.DataFrame({
        "stretch_id": stretches["stretch_id"],
        "lon": stretches["lon"], "lat": stretches["lat"],
        "color": [TIER_RGBA.get(tier, TIER_RGBA["none"]) for tier in stretches["tier"]],
        "radius": [9 if tier in ("red", "orange") else 6 for tier in stretches["tier"]],
        "title": stretches["road_ref"].fillna("") + " " + stretches["km_from"].map(k_stake)
        + "–" + stretches["km_to"].map(k_stake),
        "detail": [tier_label(tier, lang) for tier in stretches["tier"]],
        "drivers": stretches["reasons_en" if lang == "en" else "reasons_zh"].fillna(""),
    })


def background_layers(lang: str) -> list[pdk.Layer]:
    """Province outlines, a 5° graticule and city names, all from package data (one text layer:
    text is the slowest layer to start in a browser without a GPU)."""
    name_key = "name_en" if lang == "en" else "name_zh"
    town_rows = pd.DataFrame(list(cities()))
    town_rows["label"] = town_rows[name_key]
    town_rows["size"] = [17 if capital else 15 for capital in town_rows["capital"]]
    return [
        pdk.Layer("GeoJsonLayer", id="provinces", data=province_outlines(), stroked=True, filled=True,
                  get_fill_color=LAND_RGBA, get_line_color=BORDER_RGBA, line_width_min_pixels=1,
                  pickable=False),
        pdk.Layer("PathLayer", id="graticule", data=graticule(100, 15, 130, 45), get_path="path",
                  get_color=[200, 205, 215, 160], width_units=PIXELS, get_width=1, pickable=False),
        pdk.Layer("ScatterplotLayer", id="cities", data=town_rows, get_position="[lon, lat]",
                  get_fill_color=[60, 60, 70, 255], radius_units=PIXELS, get_radius=3, pickable=False),
        pdk.Layer("TextLayer", id="city-names", data=town_rows, get_position="[lon, lat]", get_text="label",
                  get_size="size", get_color=[40, 40, 50, 255], get_pixel_offset=[0, -14],
                  character_set='"auto"', font_family=CJK_FONT, font_weight=600, pickable=False),
    ]


def board_deck(segments: pd.DataFrame, stretches: pd.DataFrame, lang: str = "zh",
               online_tiles: bool = False, height_px: int = 560, warnings: bool = True) -> pdk.Deck:
    """The whole map: background, the warning halo (`warnings`), segments coloured by tier at one
    hour, pickable stretch markers.

    segments  : `path, road_ref, km_from, tier, risk, top_drivers, top_drivers_en, lon, lat`,
                optionally `icing_warning, visibility_warning`
    stretches : `stretch_id, road_ref, km_from, km_to, tier, lon, lat, reasons_zh, reasons_en`
    """
    halo = warning_rows(segments, lang) if warnings else pd.DataFrame()
    layers = [*background_layers(lang)]
    if not halo.empty:
        layers.append(pdk.Layer("PathLayer", id="warnings", data=halo, get_path="path", get_color="color",
                                get_width=16, width_units=PIXELS, cap_rounded=True, joint_rounded=True,
                                pickable=True))
    layers += [pdk.Layer("PathLayer", id="segments", data=segment_rows(segments, lang), get_path="path",
                        get_color="color", get_width="width", width_units=PIXELS, cap_rounded=True,
                        joint_rounded=True, pickable=True, auto_highlight=True)]
    if not stretches.empty:
        layers.append(pdk.Layer(
            "ScatterplotLayer", id=STRETCH_LAYER_ID, data=stretch_rows(stretches, lang), get_position="[lon, lat]",
            get_fill_color="color", get_line_color=[255, 255, 255, 255], stroked=True, line_width_min_pixels=2,
            radius_units=PIXELS, get_radius="radius", pickable=True, auto_highlight=True))
    tooltip = {"html": "<b>{title}</b><br/>{detail}<br/>{drivers}",
               "style": {"backgroundColor": "#1f2937", "color": "white", "fontSize": "13px"}}
    if online_tiles:
        return pdk.Deck(layers=layers, initial_view_state=view_for(segments["lon"], segments["lat"]),
                        map_provider="carto", map_style="light", tooltip=tooltip, height=height_px)
    return pdk.Deck(layers=layers, initial_view_state=view_for(segments["lon"], segments["lat"]),
                    map_provider=None, tooltip=tooltip, height=height_px)
