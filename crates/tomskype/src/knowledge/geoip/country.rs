//! Knowledge, GeoIP: the country code type that GeoIP lookups return.
//!
//! [`Country`] is a `Copy` two-letter ISO 3166-1 alpha-2 code; it leaves out names, continents
//! and any check that the code is assigned.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer};

/// An ISO 3166-1 alpha-2 country code, two upper-case ASCII letters. Displays (and reports
/// write it) as the two letters ("CN"); deserialises from two letters in either case.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    /// Mainland China, "CN". Hong Kong ("HK"), Macao ("MO") and Taiwan ("TW") have their own
    /// codes in every GeoIP database and are not counted as CN.
    pub const CHINA: Country = Country(*b"CN");

    /// Parses two ASCII letters, in either case; anything else is `None`.
    pub fn parse(code: &str) -> Option<Country> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some(Country([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => None,
        }
    }

    /// The code as a string slice, e.g. "CN".
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII letters (only `parse` and constants build a Country), so this is
        // always valid UTF-8; the fallback is never taken.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Country({})", self.as_str())
    }
}

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Country, D::Error> {
        let code = <Cow<'de, str>>::deserialize(deserializer)?;
        Country::parse(&code).ok_or_else(|| {
            serde::de::Error::custom(format!("expected a two-letter country code, got {code:?}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(code: &str) -> Option<Country> {
        Country::parse(code)
    }

    #[test]
    fn country_parse_display_serde() {
        assert_eq!(Country::parse("cn"), Some(Country::CHINA));
        assert_eq!(Country::parse("Cn"), Some(Country::CHINA));
        assert_eq!(Country::CHINA.to_string(), "CN");
        assert_eq!(format!("{:?}", Country::CHINA), "Country(CN)");
        for bad in ["", "C", "CHN", "C1", "1N", "中国", "C\u{e9}"] {
            assert_eq!(Country::parse(bad), None, "{bad:?}");
        }
        assert_ne!(Country::parse("HK"), Some(Country::CHINA));
        let back: Result<Country, _> = serde_json::from_str("\"tw\"");
        assert_eq!(back.ok(), cc("TW"));
        assert!(serde_json::from_str::<Country>("\"TWN\"").is_err());
        assert!(cc("AU") < cc("CN"));
    }
}
