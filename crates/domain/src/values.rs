//! Validated value types. Each has a `parse` constructor and cannot hold an invalid value.

use crate::Invalid;

/// Longest ticket subject, in characters.
pub const SUBJECT_MAX_CHARS: usize = 200;
/// Largest message body, in bytes (64 KiB): longer text belongs in an attachment.
pub const BODY_MAX_BYTES: usize = 64 * 1024;

fn trimmed_nonempty(field: &'static str, raw: &str, max_chars: usize) -> Result<String, Invalid> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(Invalid::new(
            field,
            format!("must be at most {max_chars} characters (got {chars})"),
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The value as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_value!(
    /// A ticket subject: one line, 1 to 200 characters, trimmed.
    Subject
);
string_value!(
    /// A message body: 1 byte to 64 KiB of text, trimmed.
    Body
);
string_value!(
    /// A display name of a person, team or organisation: 1 to 120 characters.
    Name
);
string_value!(
    /// An e-mail address, lower-cased.
    Email
);
string_value!(
    /// A tag: 1 to 40 characters of `a-z 0-9 - _ : .`, lower-cased.
    Tag
);
string_value!(
    /// A ticket category such as `billing` or `outage`: 1 to 60 characters.
    Category
);
string_value!(
    /// An external http(s) URL, such as an engineering issue.
    ExternalUrl
);

impl Subject {
    /// Parses a subject for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        trimmed_nonempty(field, raw, SUBJECT_MAX_CHARS).map(Self)
    }
}

impl Body {
    /// Parses a message body for `field`; newlines and tabs are allowed.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(Invalid::new(field, "must not be empty"));
        }
        if value.len() > BODY_MAX_BYTES {
            return Err(Invalid::new(
                field,
                format!(
                    "must be at most {BODY_MAX_BYTES} bytes (got {}); attach longer text as a file",
                    value.len()
                ),
            ));
        }
        if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Invalid::new(field, "must not contain control characters"));
        }
        Ok(Self(value.to_owned()))
    }
}

impl Name {
    /// Parses a display name for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        trimmed_nonempty(field, raw, 120).map(Self)
    }
}

impl Category {
    /// Parses a category for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        trimmed_nonempty(field, raw, 60).map(|v| Self(v.to_lowercase()))
    }
}

impl Email {
    /// Parses an e-mail address for `field`: one `@`, a non-empty local part, a dotted domain.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let value = raw.trim().to_lowercase();
        let bad = || Invalid::new(field, format!("'{value}' is not an e-mail address"));
        if value.is_empty() {
            return Err(Invalid::new(field, "must not be empty"));
        }
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = value.split_once('@').ok_or_else(bad)?;
        // Only what mail systems deliver to as-is: no quoting, no angle brackets or lists, so
        // the address a mail library reads is the address that was checked.
        let domain_ok = !domain.is_empty()
            && domain.split('.').all(|label| {
                !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && domain.contains('.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.chars().any(|c| {
                matches!(
                    c,
                    '<' | '>' | '(' | ')' | '[' | ']' | '\\' | ',' | ';' | ':' | '"' | '@'
                )
            });
        if !local_ok || !domain_ok {
            return Err(bad());
        }
        Ok(Self(value))
    }

    /// The domain part (after `@`), lower case.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

impl Tag {
    /// Parses a tag for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() || value.len() > 40 {
            return Err(Invalid::new(field, "a tag must be 1 to 40 characters"));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        {
            return Err(Invalid::new(
                field,
                format!("tag '{value}' may only contain a-z, 0-9, '-', '_', ':' and '.'"),
            ));
        }
        Ok(Self(value))
    }

    /// Parses a list of tags, dropping duplicates and keeping the first occurrence order.
    pub fn parse_list<'a>(
        field: &'static str,
        raw: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<Self>, Invalid> {
        let mut tags: Vec<Self> = Vec::new();
        for item in raw {
            let tag = Self::parse(field, item)?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        if tags.len() > 20 {
            return Err(Invalid::new(field, "at most 20 tags per ticket"));
        }
        Ok(tags)
    }
}

impl ExternalUrl {
    /// Parses an absolute http or https URL for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let value = raw.trim();
        let rest = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"))
            .ok_or_else(|| Invalid::new(field, "must be an http:// or https:// URL"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty() || value.len() > 2000 || value.chars().any(|c| c.is_whitespace()) {
            return Err(Invalid::new(
                field,
                "must be an http:// or https:// URL with a host",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_is_trimmed_and_bounded() {
        assert_eq!(
            Subject::parse("subject", "  VPN down ").map(Subject::into_string),
            Ok("VPN down".to_owned())
        );
        assert_eq!(
            Subject::parse("subject", "   ").map_err(|e| e.reason),
            Err("must not be empty".to_owned())
        );
        assert!(Subject::parse("subject", &"x".repeat(201)).is_err());
        assert!(Subject::parse("subject", &"é".repeat(200)).is_ok());
        assert!(Subject::parse("subject", "a\nb").is_err());
    }

    #[test]
    fn body_allows_newlines_and_limits_size() {
        assert!(Body::parse("body", "line one\nline two\ttab").is_ok());
        assert!(Body::parse("body", &"x".repeat(BODY_MAX_BYTES + 1)).is_err());
        assert!(Body::parse("body", "bell\u{7}").is_err());
    }

    #[test]
    fn email_shapes() {
        assert_eq!(
            Email::parse("email", " Ana@Example.COM ").map(Email::into_string),
            Ok("ana@example.com".to_owned())
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@x.io",
            "a@@x.io",
            "a@x..io",
            "x<victim@t.com>",
            "\"a\"@x.io",
            "a,b@x.io",
            "a@x_y.io",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn tags_are_normalised_and_deduplicated() {
        let tags = Tag::parse_list("tags", ["VPN", "vpn", "db:primary"]).unwrap_or_default();
        let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
        assert_eq!(names, ["vpn", "db:primary"]);
        assert!(Tag::parse("tags", "two words").is_err());
    }

    #[test]
    fn external_url_needs_scheme_and_host() {
        assert!(ExternalUrl::parse("url", "https://git.example.com/eng/issues/12").is_ok());
        assert!(ExternalUrl::parse("url", "ftp://x").is_err());
        assert!(ExternalUrl::parse("url", "https://").is_err());
        assert!(ExternalUrl::parse("url", "javascript:alert(1)").is_err());
    }
}
