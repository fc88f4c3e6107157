#!/usr/bin/env python3
"""Builds the map and country-name data that the HTML and people's reports embed.

Inputs are three npm packages, unpacked side by side in one folder (fetch them with
`npm pack world-atlas@2.0.2 i18n-iso-countries@7.14.0 cldr-localenames-modern@45.0.0` and untar
each into a folder named after the package):
- world-atlas (ISC; shapes from Natural Earth, public domain): countries-110m.json, TopoJSON;
- i18n-iso-countries (MIT): codes.json, to map ISO 3166-1 numeric ids to alpha-2 codes;
- cldr-localenames-modern (Unicode License v3): country names in en, zh (Simplified), zh-Hant.

Outputs, deterministic (sorted, fixed precision):
- data/map/world-110m.tsv: `CC<TAB>SVG path` per country, equirectangular, 960 x 480 for the
  whole globe (x = (lon + 180) * 960 / 360, y = (90 - lat) * 480 / 180), one decimal; a ring
  that crosses the antimeridian (Russia, Fiji) is drawn whole past the edge, and again shifted
  by the map's width, so that the frame shows each part on its side;
  countries without an ISO code (Kosovo, Northern Cyprus, Somaliland) as `-`;
- data/map/countries.tsv: `CC<TAB>English<TAB>简体中文<TAB>繁體中文` for every CLDR territory
  with a two-letter code.

Usage: python3 data/map/build.py PACKAGES_DIR
"""
import json
import os
import sys

W, H = 960.0, 480.0


def decode_arcs(topo):
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)
    return arcs


def ring(arcs, indexes):
    pts = []
    for i in indexes:
        arc = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        pts.extend(arc if not pts else arc[1:])
    return pts


def project(lon, lat):
    return ((lon + 180.0) * W / 360.0, (90.0 - lat) * H / 180.0)


def unwrap(points):
    """Keeps a ring continuous where it crosses the antimeridian (Russia, Fiji): a jump of
    more than 180 degrees of longitude continues past +-180 instead of across the map."""
    out = []
    shift = 0.0
    for lon, lat in points:
        if out:
            prev = out[-1][0]
            while lon + shift - prev > 180:
                shift -= 360
            while lon + shift - prev < -180:
                shift += 360
        out.append((lon + shift, lat))
    return out


def copies(points):
    """The ring, and where it runs past an edge of the map, a copy shifted by 360 degrees so
    that the part past the edge shows at the other one (the map's frame clips the rest)."""
    lons = [p[0] for p in points]
    out = [points]
    if max(lons) > 180:
        out.append([(lon - 360, lat) for lon, lat in points])
    if min(lons) < -180:
        out.append([(lon + 360, lat) for lon, lat in points])
    return out


def path(arcs, geometry):
    polys = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
    out = []
    for poly in polys:
        for r in poly:
            for lonlat in copies(unwrap(ring(arcs, r))):
                pts = [project(*p) for p in lonlat]
                # Drop points closer than 0.1 unit to the previous one (invisible here).
                kept = []
                for x, y in pts:
                    x, y = round(x, 1), round(y, 1)
                    if not kept or (x, y) != kept[-1]:
                        kept.append((x, y))
                if len(kept) < 3:
                    continue
                out.append("M" + "L".join(f"{x:g},{y:g}" for x, y in kept) + "Z")
    return "".join(out)


def main():
    root = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    topo = json.load(open(os.path.join(root, "world-atlas", "countries-110m.json")))
    codes = json.load(open(os.path.join(root, "i18n-iso-countries", "codes.json")))
    numeric = {num: a2 for a2, _a3, num, _ in codes}
    arcs = decode_arcs(topo)
    rows = []
    for g in topo["objects"]["countries"]["geometries"]:
        if g.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        cc = numeric.get(g.get("id"), "-")
        rows.append((cc, g["properties"]["name"], path(arcs, g)))
    rows.sort()
    with open(os.path.join(here, "world-110m.tsv"), "w", encoding="utf-8") as f:
        f.write("# Country shapes for the HTML report: CC<TAB>SVG path (equirectangular, 960x480).\n")
        f.write("# Built by data/map/build.py from world-atlas 2.0.2 (Natural Earth 1:110m); see README.md.\n")
        for cc, _name, d in rows:
            f.write(f"{cc}\t{d}\n")
    names = {}
    for locale in ("en", "zh", "zh-Hant"):
        p = os.path.join(root, "cldr-localenames-modern", "main", locale, "territories.json")
        t = json.load(open(p, encoding="utf-8"))["main"][locale]["localeDisplayNames"]["territories"]
        names[locale] = t
    with open(os.path.join(here, "countries.tsv"), "w", encoding="utf-8") as f:
        f.write("# Country names: CC<TAB>English<TAB>Simplified Chinese<TAB>Traditional Chinese.\n")
        f.write("# Built by data/map/build.py from Unicode CLDR 45 (cldr-localenames-modern); see README.md.\n")
        for cc in sorted(k for k in names["en"] if len(k) == 2 and k.isalpha()):
            row = [names[l].get(cc, names["en"][cc]) for l in ("en", "zh", "zh-Hant")]
            f.write(cc + "\t" + "\t".join(row) + "\n")


if __name__ == "__main__":
    main()
