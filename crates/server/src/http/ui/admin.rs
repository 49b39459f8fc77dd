//! Administration: teams, organisations, users and API tokens.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use opsdesk_domain::{Role, Tier};
use serde::Deserialize;

use super::page_error;
use super::render_with;
use super::session::{Session, SignedForm};
use super::views::{AdminPage, FormErrors, UserRow};
use crate::app::{self};
use crate::error::ApiError;
use crate::wire::desk::{CreateOrgIn, CreateTeamIn, CreateUserIn};
use crate::AppState;

pub(super) fn routes() -> axum::Router<AppState> {
    Router::new()
        .route("/admin", get(page))
        .route("/admin/teams", post(create_team))
        .route("/admin/teams/escalation", post(set_escalation))
        .route("/admin/orgs", post(create_org))
        .route("/admin/users", post(create_user))
        .route("/admin/tokens", post(create_token))
        .route("/admin/tokens/revoke", post(revoke_token))
        .route("/admin/users/active", post(set_active))
}

async fn page(State(state): State<AppState>, session: Session) -> Response {
    admin_page(
        &state,
        &session,
        FormErrors::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

async fn admin_page(
    state: &AppState,
    session: &Session,
    form: FormErrors,
    new_token: String,
    status: StatusCode,
) -> Response {
    let ctx = state.ctx(&session.actor);
    let result: Result<_, ApiError> = async {
        let tokens = app::list_tokens(&state.store, ctx.operator).await?;
        let teams = app::directory::teams(&ctx).await?;
        let orgs = app::directory::orgs(&ctx).await?;
        let users = app::directory::everyone(&ctx, 1000).await?;
        let search = app::search::status(&ctx, &state.indexer, &state.search).await?;
        Ok((teams, orgs, users, tokens, search))
    }
    .await;
    let (teams, orgs, users, tokens, search) = match result {
        Ok(found) => found,
        Err(e) => return page_error(e, session.chrome()),
    };
    let team_rows = teams
        .iter()
        .map(|t| {
            let target = t
                .escalates_to
                .and_then(|id| teams.iter().find(|x| x.id == id))
                .map(|x| x.name.clone())
                .unwrap_or_else(|| "—".into());
            (t.name.clone(), t.tier.to_string(), target)
        })
        .collect();
    let page = AdminPage {
        chrome: session.chrome(),
        form,
        new_token,
        teams: team_rows,
        orgs: orgs.into_iter().map(|o| o.name).collect(),
        users: users
            .into_iter()
            .map(|u| UserRow {
                email: u.email,
                name: u.name,
                role: u.role.as_str().into(),
                tier: u.tier.map(|t| t.to_string()).unwrap_or_default(),
                active: u.active,
            })
            .collect(),
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        tiers: Tier::ALL.iter().map(Tier::to_string).collect(),
        tokens: tokens
            .into_iter()
            .map(|t| {
                (
                    t.id,
                    t.user_email,
                    t.name,
                    super::views::exact(t.created_at),
                )
            })
            .collect(),
        search,
    };
    render_with(status, &page)
}

async fn after(state: &AppState, session: &Session, result: Result<(), ApiError>) -> Response {
    super::after(result, "/admin", |errors, status| {
        admin_page(state, session, errors, String::new(), status)
    })
    .await
}

async fn create_team(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<CreateTeamIn>,
) -> Response {
    let result = app::create_team(&state.ctx(&session.actor), &form)
        .await
        .map(|_| ());
    after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct EscalationForm {
    name: String,
    #[serde(default)]
    escalates_to: String,
}

async fn set_escalation(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<EscalationForm>,
) -> Response {
    let result = async {
        let ctx = state.ctx(&session.actor);
        let team = app::directory::team_named(&ctx, "name", &form.name).await?;
        app::set_team_escalation(
            &state.ctx(&session.actor),
            team.id,
            Some(&form.escalates_to),
        )
        .await
        .map(|_| ())
    }
    .await;
    after(&state, &session, result).await
}

async fn create_org(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<CreateOrgIn>,
) -> Response {
    let result = app::create_org(&state.ctx(&session.actor), &form.name)
        .await
        .map(|_| ());
    after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct UserForm {
    email: String,
    name: String,
    role: String,
    #[serde(default)]
    tier: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    organization: String,
    #[serde(default)]
    password: String,
}

async fn create_user(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<UserForm>,
) -> Response {
    let input = CreateUserIn {
        email: form.email,
        name: form.name,
        role: form.role,
        tier: Some(form.tier),
        teams: Some(form.team).filter(|t| !t.is_empty()).map(|t| vec![t]),
        organization: Some(form.organization),
        password: Some(form.password).filter(|p| !p.is_empty()),
    };
    let result = app::create_user(&state.ctx(&session.actor), &input)
        .await
        .map(|_| ());
    after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    email: String,
}

async fn create_token(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<TokenForm>,
) -> Response {
    match app::create_token(&state.ctx(&session.actor), &form.email, Some("ui")).await {
        Ok((_, token)) => {
            admin_page(
                &state,
                &session,
                FormErrors::default(),
                token,
                StatusCode::CREATED,
            )
            .await
        }
        Err(err) => after(&state, &session, Err(err)).await,
    }
}

#[derive(Debug, Deserialize)]
struct RevokeForm {
    id: i64,
}

async fn revoke_token(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<RevokeForm>,
) -> Response {
    let result = app::revoke_token(&state.ctx(&session.actor), form.id).await;
    if result.is_ok() {
        state.token_cache.clear();
    }
    after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct ActiveForm {
    email: String,
    active: bool,
}

async fn set_active(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<ActiveForm>,
) -> Response {
    let result = async {
        let ctx = state.ctx(&session.actor);
        let user = app::directory::user_by_email(&ctx, "email", &form.email).await?;
        let input = crate::wire::desk::PatchUserIn {
            active: Some(form.active),
            ..Default::default()
        };
        app::update_user(&state.ctx(&session.actor), user.id, &input)
            .await
            .map(|_| ())
    }
    .await;
    if result.is_ok() && !form.active {
        state.token_cache.clear();
    }
    after(&state, &session, result).await
}
