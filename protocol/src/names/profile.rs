//! What a profile holds besides the name: a short bio and the person's time zone.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::{InvalidValue, invalid};

/// Most characters a bio has.
pub const BIO_MAX_CHARS: usize = 300;
/// Most characters a time zone's name has.
pub const TIME_ZONE_MAX_CHARS: usize = 64;

string_newtype!(
    /// A few words about oneself, shown on one's profile card: 1–300 characters, trimmed;
    /// line breaks allowed, no other control characters.
    Bio
);
string_newtype!(
    /// A time zone's IANA name (`Europe/Lisbon`, `America/Argentina/Buenos_Aires`, `UTC`):
    /// 1–64 characters, parts of letters, digits, `_`, `+` and `-` joined by `/`, each
    /// starting with a letter or digit. Whether the zone exists is the browser's to know
    /// (one it does not know shows no local time).
    TimeZone
);

impl Bio {
    /// Parses a bio.
    pub fn parse(raw: &str) -> Result<Bio, InvalidValue> {
        let text = raw.trim();
        if text.is_empty() || text.chars().count() > BIO_MAX_CHARS {
            return Err(invalid(
                "bio",
                format!("A bio has 1 to {BIO_MAX_CHARS} characters."),
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(invalid(
                "bio",
                "A bio cannot contain control characters other than line breaks.",
            ));
        }
        Ok(Bio(text.to_string()))
    }
}

impl TimeZone {
    /// Parses a time zone's name.
    pub fn parse(raw: &str) -> Result<TimeZone, InvalidValue> {
        let name = raw.trim();
        let well_formed = !name.is_empty()
            && name.chars().count() <= TIME_ZONE_MAX_CHARS
            && name.split('/').all(|part| {
                part.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric())
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-'))
            });
        if !well_formed {
            return Err(invalid(
                "time_zone",
                "A time zone is a name like Europe/Lisbon or UTC.",
            ));
        }
        Ok(TimeZone(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bio_is_trimmed_bounded_and_may_span_lines() {
        assert_eq!(
            Bio::parse("  Designer.\nAsk me about fonts. ")
                .unwrap()
                .as_ref(),
            "Designer.\nAsk me about fonts."
        );
        assert!(Bio::parse("   ").is_err());
        assert!(Bio::parse(&"x".repeat(BIO_MAX_CHARS)).is_ok());
        assert!(Bio::parse(&"x".repeat(BIO_MAX_CHARS + 1)).is_err());
        assert!(Bio::parse("bell\u{7}").is_err());
    }

    #[test]
    fn a_time_zone_is_an_iana_shaped_name() {
        for ok in [
            "UTC",
            "Europe/Lisbon",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+3",
            "America/Port-au-Prince",
        ] {
            assert_eq!(TimeZone::parse(ok).unwrap().as_ref(), ok);
        }
        for bad in [
            "",
            "/Lisbon",
            "Europe//Lisbon",
            "Europe/",
            "Europe/Lis bon",
            "../etc/passwd",
            "<b>",
        ] {
            assert!(TimeZone::parse(bad).is_err(), "{bad:?}");
        }
        assert!(TimeZone::parse(&"A".repeat(TIME_ZONE_MAX_CHARS + 1)).is_err());
    }
}
