//! Signing in and out, the session extractor, and CSRF-checked form submissions.
//!
//! The session cookie holds a random secret; the database keeps only its SHA-256 hash, the
//! user, an expiry and the session's CSRF token. Every state-changing form posts that token
//! back, and [`SignedForm`] refuses the request before any handler runs if it does not match.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use jiff::Timestamp;
use opsdesk_domain::Actor;
use opsdesk_store::User;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::render_with;
use super::views::{Chrome, LoginPage, Me, MessagePage};
use crate::app::sessions::{self, SESSION_HOURS};
use crate::auth;
use crate::input::MAX_BODY_BYTES;
use crate::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "opsdesk_session";
/// Name of the cookie that protects the sign-in form itself.
const LOGIN_COOKIE: &str = "opsdesk_login";

/// A signed-in user of the UI.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user.
    pub user: User,
    /// The user as the rules see them.
    pub actor: Actor,
    /// The CSRF token forms must post back.
    pub csrf: String,
}

impl Session {
    /// The page frame for this session.
    pub fn chrome(&self) -> Chrome {
        Chrome {
            me: Some(Me::of(&self.user, &self.actor)),
            csrf: self.csrf.clone(),
            notice: String::new(),
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_login = || {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
            Redirect::to(&format!("/login?{query}")).into_response()
        };
        let Some(secret) = cookie_value(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        match sessions::resume(&state.store, &secret, Timestamp::now()).await {
            Ok(Some((user, csrf))) => {
                let actor = user.actor();
                Ok(Self { user, actor, csrf })
            }
            Ok(None) => Err(to_login()),
            Err(e) => Err(super::page_error(e, Chrome::default())),
        }
    }
}

/// A form submission from a signed-in user whose CSRF token matched.
#[derive(Debug)]
pub struct SignedForm<T> {
    /// Who submitted it.
    pub session: Session,
    /// The form's fields (without `csrf`).
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for SignedForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                message(
                    &session.chrome(),
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Too large",
                    "The form is larger than the server accepts.",
                )
            })?;
        let (token, fields) = split_csrf(&bytes);
        if !constant_time_eq(token.as_bytes(), session.csrf.as_bytes()) {
            return Err(message(
                &session.chrome(),
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form was not issued by this session. Go back, reload the page and try again.",
            ));
        }
        let form = serde_urlencoded::from_str::<T>(&fields).map_err(|e| {
            message(
                &session.chrome(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid form",
                &e.to_string(),
            )
        })?;
        Ok(Self { session, form })
    }
}

/// Splits a urlencoded body into its `csrf` value and the other fields, re-encoded.
fn split_csrf(bytes: &Bytes) -> (String, String) {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).unwrap_or_default();
    let token = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let rest: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != "csrf").collect();
    (token, serde_urlencoded::to_string(rest).unwrap_or_default())
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn message(chrome: &Chrome, status: StatusCode, heading: &str, text: &str) -> Response {
    let page = MessagePage {
        chrome: chrome.clone(),
        heading: heading.into(),
        text: text.into(),
    };
    render_with(status, &page)
}

/// Query of the sign-in page.
#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    /// Where to go after signing in.
    #[serde(default)]
    next: String,
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    csrf: String,
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

fn cookie(name: &'static str, value: String, max_age_secs: i64, secure: bool) -> HeaderValue {
    let cookie = Cookie::build((name, value))
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// GET /login
pub async fn login_page(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> Response {
    login_form(
        &state,
        String::new(),
        String::new(),
        query.next,
        StatusCode::OK,
    )
}

fn login_form(
    state: &AppState,
    error: String,
    email: String,
    next: String,
    status: StatusCode,
) -> Response {
    let token = auth::new_secret();
    let page = LoginPage {
        chrome: Chrome {
            me: None,
            csrf: token.clone(),
            notice: String::new(),
        },
        error,
        email,
        next,
    };
    let mut response = render_with(status, &page);
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie(LOGIN_COOKIE, token, 3600, state.secure_cookies),
    );
    response
}

/// POST /login
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    let expected = cookie_value(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !constant_time_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        return login_form(
            &state,
            "The sign-in form expired; please try again.".into(),
            form.email,
            form.next,
            StatusCode::FORBIDDEN,
        );
    }
    let key = form.email.trim().to_lowercase();
    if !state.login_limiter.allowed(&key) {
        return login_form(
            &state,
            "Too many failed sign-ins for this address; wait 15 minutes and try again.".into(),
            form.email,
            form.next,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let secret = match sessions::sign_in(&state.store, &key, &form.password, Timestamp::now()).await
    {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            state.login_limiter.failed(&key);
            return login_form(
                &state,
                "Wrong e-mail address or password.".into(),
                form.email,
                form.next,
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(e) => return super::page_error(e, Chrome::default()),
    };
    state.login_limiter.succeeded(&key);
    let next = if form.next.starts_with('/') && !form.next.starts_with("//") {
        form.next
    } else {
        "/".into()
    };
    let mut response = Redirect::to(&next).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie(
            SESSION_COOKIE,
            secret,
            SESSION_HOURS * 3600,
            state.secure_cookies,
        ),
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie(LOGIN_COOKIE, String::new(), 0, state.secure_cookies),
    );
    response
}

/// POST /logout
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedForm { .. }: SignedForm<Empty>,
) -> Response {
    if let Some(secret) = cookie_value(&headers, SESSION_COOKIE) {
        if let Err(e) = sessions::sign_out(&state.store, &secret).await {
            return super::page_error(e, Chrome::default());
        }
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie(SESSION_COOKIE, String::new(), 0, state.secure_cookies),
    );
    response
}

/// A form with no fields but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct Empty {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_lax_and_secure_when_asked() {
        let plain = cookie(SESSION_COOKIE, "v".into(), 60, false);
        let plain = plain.to_str().unwrap_or_default();
        assert!(
            plain.contains("HttpOnly") && plain.contains("SameSite=Lax"),
            "{plain}"
        );
        assert!(!plain.contains("Secure"), "{plain}");
        let secure = cookie(SESSION_COOKIE, "v".into(), 60, true);
        assert!(secure.to_str().unwrap_or_default().contains("Secure"));
    }

    #[test]
    fn csrf_split_keeps_the_other_fields() {
        let (token, rest) =
            split_csrf(&Bytes::from_static(b"csrf=abc&body=hi+there&internal=true"));
        assert_eq!(token, "abc");
        assert_eq!(rest, "body=hi+there&internal=true");
        assert!(!constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
    }
}
