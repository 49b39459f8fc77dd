//! Reading JSON request bodies so that every refusal names the field and the reason.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Code};

/// Largest request body the API reads (256 KiB); message bodies have their own, smaller limit.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A JSON body of type `T`, refused with problem+json when it is not exactly that.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "send the body as JSON with 'Content-Type: application/json'",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::new(
                Code::PayloadTooLarge,
                format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
            )
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// The numeric id in a route such as `/api/v1/tickets/{id}`, refused with problem+json when it
/// is not a positive integer.
#[derive(Debug, Clone, Copy)]
pub struct IdPath(pub i64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::field(Code::InvalidInput, "id", e.body_text()))?;
        raw.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(IdPath)
            .ok_or_else(|| {
                ApiError::field(Code::InvalidInput, "id", format!("'{raw}' is not a number"))
            })
    }
}

/// Deserialises `bytes` as `T`, naming the offending field in the error.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Tracking the path costs an allocation per key (a fifth of an alert payload's parse,
    // measured), so a body is read plainly first and again with the path only to explain
    // why it was refused.
    if let Ok(value) = T::deserialize(&mut serde_json::Deserializer::from_slice(bytes)) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => Ok(value),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let message = inner.to_string();
            match inner.classify() {
                serde_json::error::Category::Syntax
                | serde_json::error::Category::Eof
                | serde_json::error::Category::Io => Err(ApiError::new(
                    Code::MalformedJson,
                    format!("the body is not valid JSON: {message}"),
                )),
                serde_json::error::Category::Data => {
                    let reason = message
                        .split(" at line ")
                        .next()
                        .unwrap_or(&message)
                        .to_owned();
                    let named = between_backticks(&reason);
                    let field = if reason.starts_with("unknown field")
                        || reason.starts_with("missing field")
                    {
                        match (path.as_str(), named) {
                            (".", Some(name)) => name.to_owned(),
                            (known, Some(name))
                                if known == name || known.ends_with(&format!(".{name}")) =>
                            {
                                known.to_owned()
                            }
                            (parent, Some(name)) => format!("{parent}.{name}"),
                            (parent, None) => parent.to_owned(),
                        }
                    } else if path == "." {
                        "body".to_owned()
                    } else {
                        path
                    };
                    Err(ApiError::field(Code::InvalidInput, &field, reason))
                }
            }
        }
    }
}

fn between_backticks(text: &str) -> Option<&str> {
    let start = text.find('`')? + 1;
    let len = text[start..].find('`')?;
    Some(&text[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        subject: String,
        count: Option<i64>,
    }

    fn field_of(body: &str) -> (Code, Vec<String>) {
        match parse::<Sample>(body.as_bytes()) {
            Ok(_) => (Code::Internal, vec![]),
            Err(e) => (e.code, e.errors.into_iter().map(|f| f.field).collect()),
        }
    }

    #[test]
    fn names_the_field_for_each_kind_of_bad_body() {
        assert_eq!(
            field_of(r#"{"subject": "a", "colour": 1}"#),
            (Code::InvalidInput, vec!["colour".into()])
        );
        assert_eq!(
            field_of(r#"{"count": 1}"#),
            (Code::InvalidInput, vec!["subject".into()])
        );
        assert_eq!(
            field_of(r#"{"subject": 5}"#),
            (Code::InvalidInput, vec!["subject".into()])
        );
        assert_eq!(
            field_of(r#"{"subject": "a", "count": "x"}"#),
            (Code::InvalidInput, vec!["count".into()])
        );
        assert_eq!(field_of(r#"{"subject": "#).0, Code::MalformedJson);
        assert!(parse::<Sample>(br#"{"subject": "ok"}"#).is_ok());
    }
}
