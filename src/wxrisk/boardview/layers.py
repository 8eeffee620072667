"""The board's map as a pydeck Deck: province outlines, city names, the official warnings as a
halo, segments by risk tier, stretches.

Drawn with no base map by default (`map_provider=None`: Streamlit then loads no tiles); online
tiles (CARTO light) only when asked for.
"""

from __future__ import annotations

import math

import pandas as pd
import pydeck as pdk

from wxrisk.boardview.geo import cities, graticule, province_outlines
from wxrisk.boardview.i18n import k_stake, tier_label, warning_label
from wxrisk.levels import TIER_RGBA, WARNING_RANK, WARNING_RGBA

STRETCH_LAYER_ID = "stretches"
LAND_RGBA = [246, 244, 238, 255]
BORDER_RGBA = [150, 150, 160, 255]
# pydeck reads bare strings as JavaScript expressions: literal strings go in quotes.
PIXELS = '"pixels"'
CJK_FONT = '"Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif"'


def view_for(lons: pd.Series, lats: pd.Series, width_px: int = 900, min_span_deg: float = 4.0) -> pdk.ViewState:
    """A view centred on the points that fits them (at least `min_span_deg` [°] across) in `width_px`."""
    if lons.empty:
        return pdk.ViewState(longitude=114.0, latitude=30.0, zoom=5)
    span_deg = max(float(lons.max() - lons.min()), float(lats.max() - lats.min()) * 1.3, min_span_deg)
    zoom = math.log2(width_px * 360 / (512 * span_deg * 1.2))  # deck.gl: 512 px per 360° at zoom 0
    return pdk.ViewState(longitude=float((lons.min() + lons.max()) / 2),
                         latitude=float((lats.min() + lats.max()) / 2), zoom=min(max(zoom, 3.5), 11.0))


def segment_rows(segments: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Rows for the PathLayer: geometry, colour, width and tooltip text per segment."""
    tiers = segments["tier"].fillna("none")
    drivers = segments["top_drivers_en" if lang == "en" else "top_drivers"].fillna("")
    return pd.DataFrame({
        "path": segments["path"],
        "color": [TIER_RGBA.get(tier, TIER_RGBA["none"]) for tier in tiers],
        "width": [2 if tier == "none" else 6 for tier in tiers],
        "title": segments["road_ref"].fillna("") + " " + segments["km_from"].map(k_stake),
        "detail": [f"{tier_label(tier, lang)} · {risk:.2%}" for tier, risk in
                   zip(tiers, segments["risk"].fillna(0.0), strict=True)],
        "drivers": drivers,
    }).sort_values("width", kind="stable")


def warning_rows(segments: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Rows for the warning halo: segments under a road-icing warning or visibility control at the
    hour, coloured by the higher level, with both warnings named."""
    icing = segments.get("icing_warning", pd.Series("none", index=segments.index)).fillna("none")
    visibility = segments.get("visibility_warning", pd.Series("none", index=segments.index)).fillna("none")
    higher = [a if WARNING_RANK.get(a, 0) >= WARNING_RANK.get(b, 0) else b for a, b in zip(icing, visibility, strict=True)]
    warned = pd.Series([level != "none" for level in higher], index=segments.index, dtype=bool)
    if not warned.any():
        return pd.DataFrame(columns=["path", "color", "title", "detail", "drivers"])
    named = [" · ".join(w for w in (warning_label("icing", a, lang), warning_label("visibility", b, lang)) if w)
             for a, b in zip(icing[warned], visibility[warned], strict=True)]
    return pd.DataFrame({
        "path": segments.loc[warned, "path"],
        "color": [WARNING_RGBA[level] for level, on in zip(higher, warned, strict=True) if on],
        "title": segments.loc[warned, "road_ref"].fillna("") + " " + segments.loc[warned, "km_from"].map(k_stake),
        "detail": named,
        "drivers": "",
    })


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
