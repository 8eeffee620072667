"""The board's map drawn on the server as one PNG: what the officer sees first, in well under a
second, while the interactive deck.gl map (seconds to start in a browser without a GPU) is only
loaded when asked for.

Same content and colours as `layers.board_deck`: province outlines, a 5° graticule, cities, the
official warnings as a halo, segments coloured by risk tier, stretch markers. Equirectangular at
the view's mid latitude, drawn at twice the size and scaled down (smooth lines).
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache

import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from wxrisk.boardview.geo import background_bounds, cities, graticule, min_span_deg, province_outlines
from wxrisk.boardview.layers import BORDER_RGBA, LAND_RGBA, runs, warning_levels_of
from wxrisk.levels import TIER_RANK, TIER_RGBA, WARNING_RGBA

SEA_RGB = (232, 238, 244)
SCALE = 2  # drawn at twice the size, then scaled down
CJK_FONT_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei")


@dataclass(frozen=True)
class Frame:
    """The map's extent [° WGS84] and size [px]; projects lon/lat to pixels."""

    west: float
    south: float
    east: float
    north: float
    width: int
    height: int

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return ((lon - self.west) / (self.east - self.west) * self.width,
                (self.north - lat) / (self.north - self.south) * self.height)


def frame_for(lons: pd.Series, lats: pd.Series, width: int, height: int) -> Frame:
    """An extent around the points with the image's aspect, kept true at the mid latitude, at least
    `geo.min_span_deg` across (regional context in China, the network itself elsewhere)."""
    if lons.empty:
        lons, lats = pd.Series([110.0, 118.0]), pd.Series([26.0, 34.0])
    mid_lon, mid_lat = (lons.min() + lons.max()) / 2, (lats.min() + lats.max()) / 2
    k = math.cos(math.radians(mid_lat))
    span_x = max((lons.max() - lons.min()) * k * 1.15, (lats.max() - lats.min()) * 1.15 * width / height,
                 min_span_deg(lons, lats))
    half_x, half_y = span_x / k / 2, span_x * height / width / 2
    return Frame(mid_lon - half_x, mid_lat - half_y, mid_lon + half_x, mid_lat + half_y, width, height)


@cache
def cjk_font_path() -> str | None:
    """A font file with Chinese glyphs found by fontconfig, or None (city names then in English)."""
    if shutil.which("fc-match") is None:
        return None
    for family in CJK_FONT_FAMILIES:
        found = subprocess.run(["fc-match", "-f", "%{file}", f"{family}:lang=zh-cn"], capture_output=True, text=True,
                               check=False).stdout.strip()
        if found and ("CJK" in found or "wqy" in found.lower() or "yahei" in found.lower()):
            return found
    return None


def _font(size: int, lang: str) -> tuple[ImageFont.ImageFont, str]:
    """A font for city names and the name field to use: Chinese needs a CJK font, else English."""
    path = cjk_font_path()
    if path is not None:
        return ImageFont.truetype(path, size), "name_en" if lang == "en" else "name_zh"
    return ImageFont.load_default(size=size), "name_en"


def _meets_background(frame: Frame) -> bool:
    """Whether the province outlines reach into the frame (else there is no coast to draw: all land)."""
    west, south, east, north = background_bounds()
    return frame.west < east and west < frame.east and frame.south < north and south < frame.north


def _rings(geometry: dict) -> list[list[list[float]]]:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [ring for polygon in polygons for ring in polygon]


def _background(draw: ImageDraw.ImageDraw, frame: Frame, lang: str) -> None:
    for feature in province_outlines()["features"]:
        for ring in _rings(feature["geometry"]):
            points = [frame.xy(lon, lat) for lon, lat in ring]
            draw.polygon(points, fill=tuple(LAND_RGBA[:3]), outline=tuple(BORDER_RGBA[:3]), width=SCALE)
    for line in graticule(100, 15, 130, 45):
        draw.line([frame.xy(*p) for p in line["path"]], fill=(200, 205, 215), width=SCALE)
    font, name = _font(15 * SCALE, lang)
    for town in cities():
        x, y = frame.xy(town["lon"], town["lat"])
        r = 3 * SCALE
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(60, 60, 70))
        draw.text((x, y - 14 * SCALE), town[name], font=font, fill=(40, 40, 50), anchor="ms")


def _paths(draw: ImageDraw.ImageDraw, frame: Frame, rows: pd.DataFrame, colour, width_px: int) -> None:
    """Lines along each row's `path`; quiet roads (grey) thinner than tiered ones."""
    for path, rgba in zip(rows["path"], colour, strict=True):
        width = 2 if list(rgba) == TIER_RGBA["none"] else width_px
        draw.line([frame.xy(lon, lat) for lon, lat in path], fill=tuple(rgba), width=width * SCALE, joint="curve")


def _translucent(image: Image.Image, frame: Frame, rows: pd.DataFrame, rgba: list[int], width_px: int) -> Image.Image:
    """The image with the rows' paths laid over it in one translucent colour, drawn opaque on their
    own layer first so overlapping joints do not darken."""
    if rows.empty:
        return image
    layer = Image.new("L", image.size, 0)
    pen = ImageDraw.Draw(layer)
    for path in rows["path"]:
        pen.line([frame.xy(lon, lat) for lon, lat in path], fill=rgba[3], width=width_px * SCALE, joint="curve")
    colour = Image.new("RGB", image.size, tuple(rgba[:3]))
    return Image.composite(colour, image, layer)


def render_png(segments: pd.DataFrame, stretches: pd.DataFrame, lang: str = "zh", warnings: bool = True,
               width: int = 1000, height: int = 560) -> bytes:
    """The board's map at one hour as PNG bytes.

    segments  : `path, lon, lat, tier`, optionally `icing_warning, visibility_warning`
    stretches : `lon, lat, tier` of the stretches active at that hour (markers)
    """
    frame = frame_for(segments["lon"], segments["lat"], width * SCALE, height * SCALE)
    image = Image.new("RGB", (frame.width, frame.height), SEA_RGB if _meets_background(frame) else tuple(LAND_RGBA[:3]))
    draw = ImageDraw.Draw(image, "RGBA")
    _background(draw, frame, lang)
    if warnings:
        halo = runs(segments, warning_levels_of(segments))
        for level in ("yellow", "orange", "red"):
            image = _translucent(image, frame, halo[halo["level"] == level], WARNING_RGBA[level], 14)
        draw = ImageDraw.Draw(image, "RGBA")
    tiers = runs(segments, segments["tier"].fillna("none"))
    tiers = tiers.iloc[tiers["level"].map(TIER_RANK).argsort(kind="stable")]  # red drawn last, on top
    _paths(draw, frame, tiers, [TIER_RGBA[tier] for tier in tiers["level"]], 6)
    for s in stretches.itertuples():
        x, y = frame.xy(s.lon, s.lat)
        r = (9 if s.tier in ("red", "orange") else 6) * SCALE
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(TIER_RGBA.get(s.tier, TIER_RGBA["none"])),
                     outline=(255, 255, 255), width=2 * SCALE)
    small = image.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=False)
    return out.getvalue()
