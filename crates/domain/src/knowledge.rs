//! Knowledge base rules: who an article is for, its publishing state, and when it is stale.
//!
//! An article has a history of versions; one of them may be published (what readers see)
//! while a later one is the working draft. Known errors from problem records are articles
//! too, with the problem they came from.

use jiff::Timestamp;

use crate::{Invalid, Tier};

/// Who may read an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Customers in the portal and anyone on the public help centre.
    Public,
    /// Every member of staff.
    Internal,
    /// Agents of this tier and above (and managers, administrators, auditors).
    Tier(Tier),
}

impl Visibility {
    /// Parses `public`, `internal` or a tier restriction (`L2`, `tier:L2`) for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let value = raw.trim();
        match value.to_ascii_lowercase().as_str() {
            "public" => Ok(Visibility::Public),
            "internal" => Ok(Visibility::Internal),
            other => {
                let tier = other.strip_prefix("tier:").unwrap_or(other);
                Tier::parse(field, tier).map(Visibility::Tier).map_err(|_| {
                    Invalid::new(
                        field,
                        "must be public, internal or a tier from L0 to L4 (such as L2)",
                    )
                })
            }
        }
    }

    /// The stored and wire form: `public`, `internal`, `L2`.
    pub fn as_string(self) -> String {
        match self {
            Visibility::Public => "public".into(),
            Visibility::Internal => "internal".into(),
            Visibility::Tier(tier) => tier.to_string(),
        }
    }
}

/// Where an article is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleStatus {
    /// Never published; only staff who edit see it.
    Draft,
    /// A version is published to its readers.
    Published,
    /// Withdrawn: kept with its history, shown to no reader, found by no search.
    Archived,
}

impl ArticleStatus {
    /// Parses the stored form.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        match raw {
            "draft" => Ok(ArticleStatus::Draft),
            "published" => Ok(ArticleStatus::Published),
            "archived" => Ok(ArticleStatus::Archived),
            _ => Err(Invalid::new(field, "must be draft, published or archived")),
        }
    }

    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::Published => "published",
            ArticleStatus::Archived => "archived",
        }
    }
}

/// Longest article title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest article body, in bytes.
pub const MAX_BODY: usize = 200_000;

/// Checks an article title: not blank, at most [`MAX_TITLE`] characters, one line.
pub fn parse_title(raw: &str) -> Result<String, Invalid> {
    let title = raw.trim();
    if title.is_empty() {
        return Err(Invalid::new("title", "must not be empty"));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(Invalid::new(
            "title",
            format!("must be at most {MAX_TITLE} characters"),
        ));
    }
    if title.chars().any(char::is_control) {
        return Err(Invalid::new("title", "must be one line of text"));
    }
    Ok(title.to_owned())
}

/// Checks an article body (Markdown): not blank, at most [`MAX_BODY`] bytes, no control
/// characters but line breaks and tabs.
pub fn parse_body(raw: &str) -> Result<String, Invalid> {
    if raw.trim().is_empty() {
        return Err(Invalid::new("body", "must not be empty"));
    }
    if raw.len() > MAX_BODY {
        return Err(Invalid::new(
            "body",
            format!("must be at most {MAX_BODY} bytes"),
        ));
    }
    if raw
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(Invalid::new("body", "must not contain control characters"));
    }
    Ok(raw.replace("\r\n", "\n"))
}

/// The body of a known-error article made from a problem record's findings.
pub fn known_error_body(symptom: &str, cause: &str, workaround: &str) -> String {
    format!(
        "## Symptom\n\n{}\n\n## Cause\n\n{}\n\n## Workaround\n\n{}\n",
        symptom.trim(),
        cause.trim(),
        workaround.trim()
    )
}

/// Whether an article is due for review at `now` (archived articles never are).
pub fn is_stale(status: ArticleStatus, review_by: Option<Timestamp>, now: Timestamp) -> bool {
    status != ArticleStatus::Archived && review_by.is_some_and(|due| due <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_reads_every_form_and_names_the_field() {
        assert_eq!(Visibility::parse("v", "Public"), Ok(Visibility::Public));
        assert_eq!(Visibility::parse("v", "internal"), Ok(Visibility::Internal));
        assert_eq!(Visibility::parse("v", "L2"), Ok(Visibility::Tier(Tier::L2)));
        assert_eq!(
            Visibility::parse("v", "tier:L3"),
            Ok(Visibility::Tier(Tier::L3))
        );
        let err = Visibility::parse("visibility", "secret").err();
        assert_eq!(err.map(|e| e.field), Some("visibility"));
        assert_eq!(Visibility::Tier(Tier::L2).as_string(), "L2");
    }

    #[test]
    fn titles_and_bodies_are_checked() {
        assert!(parse_title("  ").is_err());
        assert!(parse_title("a\nb").is_err());
        assert_eq!(
            parse_title(" VPN drops ").ok().as_deref(),
            Some("VPN drops")
        );
        assert!(parse_title(&"x".repeat(MAX_TITLE + 1)).is_err());
        assert!(parse_body("\n").is_err());
        assert!(parse_body("nul \u{0} here").is_err());
        assert_eq!(parse_body("a\r\nb").ok().as_deref(), Some("a\nb"));
    }

    #[test]
    fn stale_means_past_review_and_not_archived() {
        let now = Timestamp::from_second(1_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let past = Timestamp::from_second(10).unwrap_or(Timestamp::UNIX_EPOCH);
        assert!(is_stale(ArticleStatus::Published, Some(past), now));
        assert!(is_stale(ArticleStatus::Draft, Some(past), now));
        assert!(!is_stale(ArticleStatus::Archived, Some(past), now));
        assert!(!is_stale(ArticleStatus::Published, None, now));
        assert!(!is_stale(
            ArticleStatus::Published,
            Some(now + jiff::SignedDuration::from_secs(1)),
            now
        ));
    }

    #[test]
    fn known_errors_have_the_three_sections() {
        let body = known_error_body("VPN drops", "MTU", "Set MTU 1400");
        assert!(body.contains("## Symptom\n\nVPN drops"));
        assert!(body.contains("## Cause\n\nMTU"));
        assert!(body.contains("## Workaround\n\nSet MTU 1400"));
    }
}
