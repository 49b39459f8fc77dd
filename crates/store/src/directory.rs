//! Organisations, teams, users, API tokens and sign-in sessions.

use jiff::Timestamp;
use opsdesk_domain::{Name, Role, Tier};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::corrupt;
use crate::events::Write;
use crate::model::ts;
use crate::sql::{Param, Sql};
use crate::{NewUser, Org, Store, StoreError, Team, TokenInfo, User, UserChanges};

const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.role, u.tier, u.org_id, u.created_at, u.active";
/// The user columns plus one team id per row; [`one_user`] folds the rows into one user.
const USER_WITH_TEAMS: &str =
    "u.id, u.email, u.name, u.role, u.tier, u.org_id, u.created_at, u.active, m.team_id";
const TEAMS_JOIN: &str = "LEFT JOIN team_members m ON m.user_id = u.id";

impl Store {
    /// Creates an organisation.
    pub async fn create_org(
        &self,
        name: &Name,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Org, StoreError> {
        let mut w = self.write(actor, now).await?;
        let id: i64 =
            sqlx::query_scalar("INSERT INTO orgs (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(name.as_str())
                .bind(w.now())
                .fetch_one(&mut *w.tx)
                .await
                .map_err(StoreError::unique(
                    "name",
                    format!("an organisation named '{name}' exists"),
                ))?;
        w.event(
            "org",
            id,
            "org.created",
            false,
            json!({"after": {"name": name.as_str()}}),
        )
        .await?;
        w.commit().await?;
        self.org(id).await
    }

    /// Every organisation, by name.
    pub async fn orgs(&self) -> Result<Vec<Org>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, calendar_id, plan FROM orgs ORDER BY lower(name)",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(org_from_row).collect()
    }

    /// One organisation by id.
    pub async fn org(&self, id: i64) -> Result<Org, StoreError> {
        let row =
            sqlx::query("SELECT id, name, created_at, calendar_id, plan FROM orgs WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?
                .ok_or(StoreError::NotFound("organisation"))?;
        org_from_row(&row)
    }

    /// One organisation by name, ignoring case.
    pub async fn org_by_name(&self, name: &str) -> Result<Option<Org>, StoreError> {
        let row =
            sqlx::query("SELECT id, name, created_at, calendar_id, plan FROM orgs WHERE lower(name) = lower($1)")
                .bind(name.trim())
                .fetch_optional(&self.read)
                .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    /// Creates a team working at `tier` that escalates to `escalates_to`.
    pub async fn create_team(
        &self,
        name: &Name,
        tier: Tier,
        escalates_to: Option<i64>,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Team, StoreError> {
        let mut w = self.write(actor, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO teams (name, tier, escalates_to, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name.as_str())
        .bind(i64::from(tier.level()))
        .bind(escalates_to)
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(StoreError::unique("name", format!("a team named '{name}' exists")))?;
        w.event(
            "team",
            id,
            "team.created",
            false,
            json!({"after": {"name": name.as_str(), "tier": tier.to_string(), "escalates_to": escalates_to}}),
        )
        .await?;
        w.commit().await?;
        self.team(id).await
    }

    /// Sets where a team escalates to.
    pub async fn set_team_escalation(
        &self,
        team_id: i64,
        escalates_to: Option<i64>,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Team, StoreError> {
        let before = self.team(team_id).await?;
        let mut w = self.write(actor, now).await?;
        sqlx::query("UPDATE teams SET escalates_to = $1 WHERE id = $2")
            .bind(escalates_to)
            .bind(team_id)
            .execute(&mut *w.tx)
            .await?;
        w.event(
            "team",
            team_id,
            "team.updated",
            false,
            json!({"before": {"escalates_to": before.escalates_to}, "after": {"escalates_to": escalates_to}}),
        )
        .await?;
        w.commit().await?;
        self.team(team_id).await
    }

    /// Every team, lowest tier first.
    pub async fn teams(&self) -> Result<Vec<Team>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, tier, escalates_to, created_at, calendar_id FROM teams ORDER BY tier, lower(name)",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(team_from_row).collect()
    }

    /// One team by id.
    pub async fn team(&self, id: i64) -> Result<Team, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, tier, escalates_to, created_at, calendar_id FROM teams WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("team"))?;
        team_from_row(&row)
    }

    /// One team by name, ignoring case.
    pub async fn team_by_name(&self, name: &str) -> Result<Option<Team>, StoreError> {
        let row = sqlx::query("SELECT id, name, tier, escalates_to, created_at, calendar_id FROM teams WHERE lower(name) = lower($1)")
            .bind(name.trim())
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(team_from_row).transpose()
    }

    /// Creates a user and their team memberships.
    pub async fn create_user(
        &self,
        new: &NewUser,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<User, StoreError> {
        let mut w = self.write(actor, now).await?;
        let id = insert_user(&mut w, new).await?;
        w.commit().await?;
        self.user(id).await
    }

    /// Changes a user's name, tier, teams or whether they are active, as one event of
    /// before/after values. Deactivating ends the user's sessions in the same transaction.
    pub async fn update_user(
        &self,
        id: i64,
        changes: &UserChanges,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<User, StoreError> {
        let user = self.user(id).await?;
        let mut before = serde_json::Map::new();
        let mut after = serde_json::Map::new();
        let mut w = self.write(actor, now).await?;
        if let Some(name) = changes.name.as_ref().filter(|n| n.as_str() != user.name) {
            sqlx::query("UPDATE users SET name = $1 WHERE id = $2")
                .bind(name.as_str())
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
            before.insert("name".into(), json!(user.name));
            after.insert("name".into(), json!(name.as_str()));
        }
        if let Some(tier) = changes.tier.filter(|t| *t != user.tier) {
            sqlx::query("UPDATE users SET tier = $1 WHERE id = $2")
                .bind(tier.map(|t| i64::from(t.level())))
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
            before.insert("tier".into(), json!(user.tier.map(|t| t.to_string())));
            after.insert("tier".into(), json!(tier.map(|t| t.to_string())));
        }
        if let Some(teams) = changes.team_ids.as_ref() {
            let mut wanted = teams.clone();
            wanted.sort_unstable();
            wanted.dedup();
            if wanted != user.team_ids {
                sqlx::query("DELETE FROM team_members WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await?;
                for team in &wanted {
                    sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)")
                        .bind(team)
                        .bind(id)
                        .execute(&mut *w.tx)
                        .await?;
                }
                before.insert("team_ids".into(), json!(user.team_ids));
                after.insert("team_ids".into(), json!(wanted));
            }
        }
        if let Some(active) = changes.active.filter(|a| *a != user.active) {
            sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
                .bind(i64::from(active))
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
            if !active {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await?;
            }
            before.insert("active".into(), json!(user.active));
            after.insert("active".into(), json!(active));
        }
        if after.is_empty() {
            return Ok(user);
        }
        w.event(
            "user",
            id,
            "user.updated",
            false,
            json!({"before": before, "after": after}),
        )
        .await?;
        w.commit().await?;
        self.user(id).await
    }

    /// One user by id.
    pub async fn user(&self, id: i64) -> Result<User, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_WITH_TEAMS} FROM users u {TEAMS_JOIN} WHERE u.id = $1 ORDER BY m.team_id"
        ))
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        one_user(&rows)?.ok_or(StoreError::NotFound("user"))
    }

    /// One user by e-mail address (any case).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_WITH_TEAMS} FROM users u {TEAMS_JOIN} WHERE u.email = lower($1) ORDER BY m.team_id"
        ))
        .bind(email.trim())
        .fetch_all(&self.read)
        .await?;
        one_user(&rows)
    }

    /// The stored password hash of a user, for sign-in.
    pub async fn password_hash(&self, email: &str) -> Result<Option<(i64, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, password_hash FROM users WHERE email = lower($1) AND active = 1",
        )
        .bind(email.trim())
        .fetch_optional(&self.read)
        .await?;
        match row {
            Some(row) => {
                let hash: Option<String> = row.try_get(1)?;
                let id: i64 = row.try_get(0)?;
                Ok(hash.map(|h| (id, h)))
            }
            None => Ok(None),
        }
    }

    /// Users, by name, optionally of one role or one team; at most `limit` after id `after`.
    pub async fn users(
        &self,
        role: Option<Role>,
        team_id: Option<i64>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id > $1 AND ($2 = '' OR u.role = $2) \
             AND ($3 = 0 OR EXISTS (SELECT 1 FROM team_members m WHERE m.user_id = u.id AND m.team_id = $3)) \
             ORDER BY u.id LIMIT $4"
        ))
        .bind(after)
        .bind(role.map(Role::as_str).unwrap_or(""))
        .bind(team_id.unwrap_or(0))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        let mut users: Vec<User> = rows.iter().map(user_from_row).collect::<Result<_, _>>()?;
        if users.is_empty() {
            return Ok(users);
        }
        let mut sql = Sql::new("SELECT user_id, team_id FROM team_members WHERE user_id IN ");
        sql.bind_list(users.iter().map(|u| Param::Int(u.id)));
        sql.push(" ORDER BY team_id");
        for row in sql.query().fetch_all(&self.read).await? {
            let user_id: i64 = row.try_get(0)?;
            let team_id: i64 = row.try_get(1)?;
            if let Some(user) = users.iter_mut().find(|u| u.id == user_id) {
                user.team_ids.push(team_id);
            }
        }
        Ok(users)
    }

    /// Stores a new API token for `user_id`; only the hash of the secret is kept.
    pub async fn create_token(
        &self,
        user_id: i64,
        name: &Name,
        token_hash: &str,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut w = self.write(actor, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(user_id)
        .bind(name.as_str())
        .bind(token_hash)
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await?;
        w.event(
            "token",
            id,
            "token.created",
            false,
            json!({"after": {"user_id": user_id, "name": name.as_str()}}),
        )
        .await?;
        w.commit().await?;
        Ok(id)
    }

    /// API tokens (never their secrets), newest first, optionally of one user.
    pub async fn tokens(&self, user_id: Option<i64>) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, t.user_id, u.email, t.name, t.created_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE ($1 = 0 OR t.user_id = $1) ORDER BY t.id DESC",
        )
        .bind(user_id.unwrap_or(0))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TokenInfo {
                    id: row.try_get(0)?,
                    user_id: row.try_get(1)?,
                    user_email: row.try_get(2)?,
                    name: row.try_get(3)?,
                    created_at: ts(row.try_get(4)?)?,
                })
            })
            .collect()
    }

    /// Revokes an API token: it stops authenticating at once in this process.
    pub async fn revoke_token(
        &self,
        id: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(actor, now).await?;
        let row = sqlx::query("DELETE FROM api_tokens WHERE id = $1 RETURNING user_id, name")
            .bind(id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(StoreError::NotFound("token"))?;
        let user_id: i64 = row.try_get(0)?;
        let name: String = row.try_get(1)?;
        w.event(
            "token",
            id,
            "token.revoked",
            false,
            json!({"before": {"user_id": user_id, "name": name}}),
        )
        .await?;
        w.commit().await
    }

    /// The user an API token hash belongs to.
    pub async fn user_by_token_hash(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_WITH_TEAMS} FROM api_tokens t JOIN users u ON u.id = t.user_id {TEAMS_JOIN} \
             WHERE t.token_hash = $1 AND u.active = 1 ORDER BY m.team_id"
        ))
        .bind(token_hash)
        .fetch_all(&self.read)
        .await?;
        one_user(&rows)
    }

    /// Records a sign-in session (the hash of its cookie value) with its CSRF token.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now.as_microsecond())
        .bind(expires_at.as_microsecond())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The user and CSRF token of a live session.
    pub async fn session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(User, String)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_WITH_TEAMS}, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id {TEAMS_JOIN} \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1 ORDER BY m.team_id"
        ))
        .bind(token_hash)
        .bind(now.as_microsecond())
        .fetch_all(&self.read)
        .await?;
        let csrf: Option<String> = rows.first().map(|row| row.try_get(9)).transpose()?;
        Ok(one_user(&rows)?.zip(csrf))
    }

    /// Ends a session.
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}

fn org_from_row(row: &AnyRow) -> Result<Org, StoreError> {
    Ok(Org {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        created_at: ts(row.try_get(2)?)?,
        calendar_id: row.try_get(3)?,
        plan: row.try_get(4)?,
    })
}

fn team_from_row(row: &AnyRow) -> Result<Team, StoreError> {
    Ok(Team {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        tier: Tier::from_level("tier", row.try_get(2)?).map_err(corrupt)?,
        escalates_to: row.try_get(3)?,
        created_at: ts(row.try_get(4)?)?,
        calendar_id: row.try_get(5)?,
    })
}

/// Folds the rows of one user joined with their team memberships (one row per team).
fn one_user(rows: &[AnyRow]) -> Result<Option<User>, StoreError> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut user = user_from_row(first)?;
    for row in rows {
        if let Some(team_id) = row.try_get::<Option<i64>, _>(8)? {
            user.team_ids.push(team_id);
        }
    }
    Ok(Some(user))
}

fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    let role: String = row.try_get(3)?;
    Ok(User {
        id: row.try_get(0)?,
        email: row.try_get(1)?,
        name: row.try_get(2)?,
        role: Role::parse("role", &role).map_err(corrupt)?,
        tier: row
            .try_get::<Option<i64>, _>(4)?
            .map(|l| Tier::from_level("tier", l))
            .transpose()
            .map_err(corrupt)?,
        org_id: row.try_get(5)?,
        team_ids: Vec::new(),
        created_at: ts(row.try_get(6)?)?,
        active: row.try_get::<i64, _>(7)? != 0,
    })
}

/// Inserts a user, their team memberships and the `user.created` event inside `w`.
pub(crate) async fn insert_user(w: &mut Write, new: &NewUser) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, name, role, tier, org_id, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.email.as_str())
    .bind(new.name.as_str())
    .bind(new.role.as_str())
    .bind(new.tier.map(|t| i64::from(t.level())))
    .bind(new.org_id)
    .bind(new.password_hash.as_deref())
    .bind(w.now())
    .fetch_one(&mut *w.tx)
    .await
    .map_err(StoreError::unique(
        "email",
        format!("a user with e-mail {} exists", new.email),
    ))?;
    for team_id in &new.team_ids {
        sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)")
            .bind(team_id)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
    }
    w.event(
        "user",
        id,
        "user.created",
        false,
        json!({"after": {
            "email": new.email.as_str(), "name": new.name.as_str(), "role": new.role.as_str(),
            "tier": new.tier.map(|t| t.to_string()), "org_id": new.org_id, "team_ids": new.team_ids,
        }}),
    )
    .await?;
    Ok(id)
}
