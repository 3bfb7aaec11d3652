//! ISO 8601 durations as Graph sends them (`P730D`, `P2Y`, `PT0S`, `P180D`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::Error;

const SECS_PER_DAY: u64 = 86_400;
/// Longest relationship duration: `P2Y` = `P730D`.
pub const MAX_RELATIONSHIP_DAYS: u64 = 730;
/// Values Graph accepts for `autoExtendDuration`.
pub const AUTO_EXTEND_VALUES: &[&str] = &["P0D", "PT0S", "P180D"];

/// An ISO 8601 duration. Keeps the wire string exactly (so `P2Y` stays `P2Y`) and knows its length.
///
/// Years count 365 days and months 30 days (so `P2Y` = `P730D`, the GDAP maximum); weeks 7 days.
/// Only whole-number components are accepted.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IsoDuration {
    wire: String,
    secs: u64,
}

impl IsoDuration {
    /// Parses any syntactically valid duration (no range check).
    ///
    /// # Errors
    /// [`Error::Validation`] naming `duration` when `s` is not an ISO 8601 duration.
    pub fn parse(s: &str) -> Result<Self, Error> {
        parse_secs(s)
            .map(|secs| Self {
                wire: s.to_owned(),
                secs,
            })
            .ok_or_else(|| {
                Error::validation(
                    "duration",
                    format!("{:?} is not an ISO 8601 duration like P730D", shorten(s)),
                )
            })
    }

    /// A relationship `duration`: `P1D` ..= `P2Y` (`P730D`).
    ///
    /// # Errors
    /// [`Error::Validation`] naming `duration` when out of range or malformed.
    pub fn relationship_duration(s: &str) -> Result<Self, Error> {
        let d = Self::parse(s)?;
        d.check_relationship_duration()?;
        Ok(d)
    }

    /// A relationship duration of whole days (`P{days}D`), checked like
    /// [`IsoDuration::relationship_duration`].
    ///
    /// # Errors
    /// [`Error::Validation`] naming `duration` when out of range.
    pub fn days_duration(days: u64) -> Result<Self, Error> {
        Self::relationship_duration(&format!("P{days}D"))
    }

    /// An `autoExtendDuration`: exactly `P0D`, `PT0S` or `P180D`.
    ///
    /// # Errors
    /// [`Error::Validation`] naming `autoExtendDuration` for any other value.
    pub fn auto_extend(s: &str) -> Result<Self, Error> {
        if !AUTO_EXTEND_VALUES.contains(&s) {
            return Err(Error::validation(
                "autoExtendDuration",
                format!("{:?} is not one of P0D, PT0S, P180D", shorten(s)),
            ));
        }
        Self::parse(s).map_err(|_| Error::validation("autoExtendDuration", "not a duration"))
    }

    /// `P180D`: auto-extend by 180 days at the end date.
    pub fn auto_extend_180_days() -> Self {
        Self {
            wire: "P180D".to_owned(),
            secs: 180 * SECS_PER_DAY,
        }
    }

    /// `PT0S`: no auto-extension (Graph's default).
    pub fn no_auto_extend() -> Self {
        Self {
            wire: "PT0S".to_owned(),
            secs: 0,
        }
    }

    /// The wire string.
    pub fn as_str(&self) -> &str {
        &self.wire
    }

    /// Whole days (rounded down).
    pub fn days(&self) -> u64 {
        self.secs / SECS_PER_DAY
    }

    /// The length as a std duration.
    pub fn as_std(&self) -> Duration {
        Duration::from_secs(self.secs)
    }

    /// Zero length (`P0D`, `PT0S`).
    pub fn is_zero(&self) -> bool {
        self.secs == 0
    }

    pub(crate) fn check_relationship_duration(&self) -> Result<(), Error> {
        if self.secs < SECS_PER_DAY || self.secs > MAX_RELATIONSHIP_DAYS * SECS_PER_DAY {
            return Err(Error::validation(
                "duration",
                format!("{} is outside P1D..=P2Y (P730D)", self.wire),
            ));
        }
        Ok(())
    }

    pub(crate) fn check_auto_extend(&self) -> Result<(), Error> {
        Self::auto_extend(&self.wire).map(|_| ())
    }
}

fn shorten(s: &str) -> String {
    s.chars().take(32).collect()
}

/// Seconds of `P[nY][nM][nW][nD][T[nH][nM][nS]]`, or `None` when malformed.
fn parse_secs(s: &str) -> Option<u64> {
    let rest = s.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut total: u64 = 0;
    let mut add = |part: &str, units: &[(char, u64)]| -> Option<()> {
        let mut num = String::new();
        let mut next_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let pos = units[next_unit..].iter().position(|(u, _)| *u == c)? + next_unit;
            if num.is_empty() || num.len() > 12 {
                return None;
            }
            let n: u64 = num.parse().ok()?;
            total = total.checked_add(n.checked_mul(units[pos].1)?)?;
            num.clear();
            next_unit = pos + 1;
        }
        num.is_empty().then_some(())
    };
    add(
        date,
        &[
            ('Y', 365 * SECS_PER_DAY),
            ('M', 30 * SECS_PER_DAY),
            ('W', 7 * SECS_PER_DAY),
            ('D', SECS_PER_DAY),
        ],
    )?;
    if let Some(t) = time {
        add(t, &[('H', 3600), ('M', 60), ('S', 1)])?;
    }
    Some(total)
}

impl FromStr for IsoDuration {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.wire)
    }
}

impl fmt::Debug for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IsoDuration({})", self.wire)
    }
}

impl serde::Serialize for IsoDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.wire)
    }
}

impl<'de> serde::Deserialize<'de> for IsoDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IsoDuration::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_gdap_values() {
        for (s, days) in [
            ("P1D", 1),
            ("P730D", 730),
            ("P2Y", 730),
            ("P1Y", 365),
            ("P90D", 90),
            ("P180D", 180),
            ("P0D", 0),
            ("PT0S", 0),
            ("P1W", 7),
            ("P1DT12H", 1),
        ] {
            let d = IsoDuration::parse(s).unwrap();
            assert_eq!(d.days(), days, "{s}");
            assert_eq!(d.as_str(), s);
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<IsoDuration>(&json).unwrap(), d);
        }
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "", "P", "PT", "730D", "P1.5D", "P-1D", "PD", "P1DT", "P1H", "PT1D", "P1D1Y", "p1d",
            "P1DD",
        ] {
            assert!(IsoDuration::parse(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn relationship_range_is_p1d_to_p2y() {
        assert!(IsoDuration::relationship_duration("P1D").is_ok());
        assert!(IsoDuration::relationship_duration("P2Y").is_ok());
        assert!(IsoDuration::relationship_duration("P730D").is_ok());
        for s in ["P0D", "PT23H", "P731D", "P3Y", "P2YT1S"] {
            let e = IsoDuration::relationship_duration(s).unwrap_err();
            assert_eq!(e.validation_field(), Some("duration"), "{s}");
        }
        assert!(IsoDuration::days_duration(730).is_ok());
        assert!(IsoDuration::days_duration(0).is_err());
    }

    #[test]
    fn auto_extend_accepts_only_three_values() {
        for s in AUTO_EXTEND_VALUES {
            assert_eq!(IsoDuration::auto_extend(s).unwrap().as_str(), *s);
        }
        for s in ["P90D", "P181D", "P6M", ""] {
            let e = IsoDuration::auto_extend(s).unwrap_err();
            assert_eq!(e.validation_field(), Some("autoExtendDuration"));
        }
        assert_eq!(IsoDuration::auto_extend_180_days().days(), 180);
        assert!(IsoDuration::no_auto_extend().is_zero());
    }
}
