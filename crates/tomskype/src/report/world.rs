//! Stage 6, report: the world as the people's reports show it: country names in each report
//! language (Unicode CLDR) and country outlines for the HTML map (Natural Earth 1:110m, via
//! world-atlas), both compiled in from `data/map/` (how they are built and their licences:
//! `data/map/README.md`). Nothing is fetched: a report opens from a USB stick, offline.

use super::lang::Lang;

/// Country names: `CC<TAB>English<TAB>Simplified<TAB>Traditional` per line.
const NAMES: &str = include_str!("../../data/map/countries.tsv");
/// Country outlines: `CC<TAB>SVG path` per line, on a 960 × 480 equirectangular plane.
const SHAPES: &str = include_str!("../../data/map/world-110m.tsv");

/// Width and height of the plane the outlines are drawn on.
pub const PLANE: (u32, u32) = (960, 480);

fn rows(text: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split('\t').collect())
}

/// A country's name in `lang`, from its ISO 3166-1 alpha-2 code; the code itself when it is
/// not a known country.
pub fn country_name(code: &str, lang: Lang) -> String {
    let column = match lang {
        Lang::En => 1,
        Lang::ZhCn => 2,
        Lang::ZhTw => 3,
    };
    rows(NAMES)
        .find(|r| r.first() == Some(&code))
        .and_then(|r| r.get(column).map(|s| (*s).to_owned()))
        .unwrap_or_else(|| code.to_owned())
}

/// Every country outline: (alpha-2 code, or `-` where Natural Earth gives none; SVG path).
pub fn shapes() -> impl Iterator<Item = (&'static str, &'static str)> {
    rows(SHAPES).filter_map(|r| Some((*r.first()?, *r.get(1)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_every_language() {
        assert_eq!(country_name("CN", Lang::En), "China");
        assert_eq!(country_name("CN", Lang::ZhCn), "中国");
        assert_eq!(country_name("CN", Lang::ZhTw), "中國");
        assert_eq!(country_name("LU", Lang::ZhCn), "卢森堡");
        assert_eq!(country_name("ZZ9", Lang::En), "ZZ9");
    }

    #[test]
    fn outlines_cover_the_countries_and_stay_near_the_plane() {
        let all: Vec<(&str, &str)> = shapes().collect();
        assert!(all.len() > 170, "{}", all.len());
        for code in ["CN", "US", "LU", "RU", "FJ"] {
            assert!(all.iter().any(|(c, _)| *c == code), "{code}");
        }
        for (code, path) in &all {
            assert!(path.starts_with('M') && path.ends_with('Z'), "{code}");
            for number in path.split(['M', 'L', 'Z', ',']).filter(|s| !s.is_empty()) {
                let v: f64 = number.parse().expect("a number");
                assert!((-961.0..=1921.0).contains(&v), "{code}: {v}");
            }
        }
    }
}
