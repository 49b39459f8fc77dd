//! Reading the directory: people, teams and organisations, for staff (and each person their
//! own record, each customer their own organisation).

use opsdesk_domain::{Action, Role};
use opsdesk_store::{Org, Team, User};

use super::{Ctx, DEFAULT_PAGE, MAX_PAGE};
use crate::error::{ApiError, Code};

/// One page of people and the cursor of the next.
#[derive(Debug)]
pub struct UserPage {
    /// The people, by id.
    pub users: Vec<User>,
    /// Where the next page starts, if there is one.
    pub next_cursor: Option<String>,
}

/// People, optionally of one role (`role`) or one team (by name), a page at a time (staff).
pub async fn users(
    ctx: &Ctx<'_>,
    role: Option<&str>,
    team: Option<&str>,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<UserPage, ApiError> {
    ctx.authorize(Action::ReadDirectory)?;
    let role = role.map(|r| Role::parse("role", r)).transpose()?;
    let team = match team {
        Some(name) => Some(super::team_named(ctx.store, "team", name).await?.id),
        None => None,
    };
    let after = match cursor {
        Some(c) => c.parse::<i64>().map_err(|_| {
            ApiError::field(
                Code::InvalidInput,
                "cursor",
                "is not a cursor this list gave out",
            )
        })?,
        None => 0,
    };
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::field(
            Code::InvalidInput,
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let mut users = ctx.store.users(role, team, after, limit + 1).await?;
    let more = users.len() as i64 > limit;
    users.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = if more {
        users.last().map(|u| u.id.to_string())
    } else {
        None
    };
    Ok(UserPage { users, next_cursor })
}

/// One person (staff, or the person themself).
pub async fn user(ctx: &Ctx<'_>, id: i64) -> Result<User, ApiError> {
    if ctx.actor().is_none_or(|a| a.user_id != id) {
        ctx.authorize(Action::ReadDirectory)?;
    }
    Ok(ctx.store.user(id).await?)
}

/// Every team (staff).
pub async fn teams(ctx: &Ctx<'_>) -> Result<Vec<Team>, ApiError> {
    ctx.authorize(Action::ReadDirectory)?;
    Ok(ctx.store.teams().await?)
}

/// One team (staff).
pub async fn team(ctx: &Ctx<'_>, id: i64) -> Result<Team, ApiError> {
    ctx.authorize(Action::ReadDirectory)?;
    Ok(ctx.store.team(id).await?)
}

/// Every organisation (staff).
pub async fn orgs(ctx: &Ctx<'_>) -> Result<Vec<Org>, ApiError> {
    ctx.authorize(Action::ReadDirectory)?;
    Ok(ctx.store.orgs().await?)
}

/// One organisation (staff, or its own customers); another's is "not found".
pub async fn org(ctx: &Ctx<'_>, id: i64) -> Result<Org, ApiError> {
    if ctx.actor().is_none_or(|a| a.org_id != Some(id)) {
        ctx.authorize(Action::ReadDirectory)
            .map_err(|_| ApiError::new(Code::NotFound, "no such organisation"))?;
    }
    Ok(ctx.store.org(id).await?)
}

/// Everyone, at most `limit`, by id (staff): the administration page's list.
pub async fn everyone(ctx: &Ctx<'_>, limit: i64) -> Result<Vec<User>, ApiError> {
    ctx.authorize(Action::ReadDirectory)?;
    Ok(ctx.store.users(None, None, 0, limit).await?)
}

/// The team named `name` (staff); an unknown name fails `field`.
pub async fn team_named(ctx: &Ctx<'_>, field: &'static str, name: &str) -> Result<Team, ApiError> {
    ctx.authorize(Action::ReadDirectory)?;
    super::team_named(ctx.store, field, name.trim()).await
}

/// The person with the address `email` (staff); an unknown address fails `field`.
pub async fn user_by_email(
    ctx: &Ctx<'_>,
    field: &'static str,
    email: &str,
) -> Result<User, ApiError> {
    ctx.authorize(Action::ReadDirectory)?;
    let email = email.trim().to_lowercase();
    ctx.store.user_by_email(&email).await?.ok_or_else(|| {
        ApiError::field(
            Code::InvalidInput,
            field,
            format!("no user with the address {email}"),
        )
    })
}

/// The organisation named `name` (staff); an unknown name fails `field`.
pub async fn org_named(ctx: &Ctx<'_>, field: &'static str, name: &str) -> Result<Org, ApiError> {
    ctx.authorize(Action::ReadDirectory)?;
    let name = name.trim();
    ctx.store.org_by_name(name).await?.ok_or_else(|| {
        ApiError::field(
            Code::InvalidInput,
            field,
            format!("no organisation named '{name}'"),
        )
    })
}
