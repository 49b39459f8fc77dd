//! Post-incident reviews, action items and problem records.

use jiff::Timestamp;
use opsdesk_domain::review::{ActionState, ProblemStatus};
use opsdesk_domain::Invalid;
use serde_json::json;
use sqlx::Row;

use crate::error::corrupt;
use crate::model::ts;
use crate::{Store, StoreError, UserRef};

/// The review template's sections, in order: (column, heading).
pub const REVIEW_SECTIONS: [(&str, &str); 7] = [
    ("summary", "Summary"),
    ("customer_impact", "Customer impact"),
    ("timeline", "Timeline"),
    ("root_cause", "Root cause"),
    ("contributing_factors", "Contributing factors"),
    ("went_well", "What went well"),
    ("went_poorly", "What went poorly"),
];

/// A post-incident review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The incident.
    pub incident_id: i64,
    /// Section texts in [`REVIEW_SECTIONS`] order.
    pub sections: Vec<String>,
    /// `draft` or `published`.
    pub status: String,
    /// Last change.
    pub updated_at: Timestamp,
}

/// An action item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionItem {
    /// Id.
    pub id: i64,
    /// The incident it came from.
    pub incident_id: Option<i64>,
    /// The problem it belongs to.
    pub problem_id: Option<i64>,
    /// What to do.
    pub title: String,
    /// Who does it.
    pub owner: UserRef,
    /// By when.
    pub due_at: Timestamp,
    /// How to check it is done.
    pub verification: String,
    /// State.
    pub state: ActionState,
    /// Who verified it.
    pub verified_by: Option<UserRef>,
    /// When it was verified.
    pub verified_at: Option<Timestamp>,
}

/// What a new action item holds.
#[derive(Debug, Clone)]
pub struct NewActionItem {
    /// The incident, if from a review.
    pub incident_id: Option<i64>,
    /// The problem, if from a problem record.
    pub problem_id: Option<i64>,
    /// What to do.
    pub title: String,
    /// Owner (staff).
    pub owner_id: i64,
    /// Due.
    pub due_at: Timestamp,
    /// Verification criteria.
    pub verification: String,
}

/// A problem record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Status.
    pub status: ProblemStatus,
    /// Root-cause analysis.
    pub root_cause: String,
    /// The known error's workaround.
    pub workaround: String,
    /// Linked incidents.
    pub incident_ids: Vec<i64>,
    /// Last change.
    pub updated_at: Timestamp,
}

const ITEM_SELECT: &str = "SELECT a.id, a.incident_id, a.problem_id, a.title, a.owner_id, o.email, o.name, \
    a.due_at, a.verification, a.state, a.verified_by, v.email, v.name, a.verified_at \
    FROM action_items a JOIN users o ON o.id = a.owner_id LEFT JOIN users v ON v.id = a.verified_by";

fn item_row(r: &sqlx::any::AnyRow) -> Result<ActionItem, StoreError> {
    let verified_by = match r.try_get::<Option<i64>, _>(10)? {
        Some(id) => Some(UserRef {
            id,
            email: r.try_get::<Option<String>, _>(11)?.unwrap_or_default(),
            name: r.try_get::<Option<String>, _>(12)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(ActionItem {
        id: r.try_get(0)?,
        incident_id: r.try_get(1)?,
        problem_id: r.try_get(2)?,
        title: r.try_get(3)?,
        owner: UserRef {
            id: r.try_get(4)?,
            email: r.try_get(5)?,
            name: r.try_get(6)?,
        },
        due_at: ts(r.try_get(7)?)?,
        verification: r.try_get(8)?,
        state: ActionState::parse("state", &r.try_get::<String, _>(9)?).map_err(corrupt)?,
        verified_by,
        verified_at: r.try_get::<Option<i64>, _>(13)?.map(ts).transpose()?,
    })
}

impl Store {
    /// An incident's review, if one was started.
    pub async fn review(&self, incident: i64) -> Result<Option<Review>, StoreError> {
        let row = sqlx::query(
            "SELECT summary, customer_impact, timeline, root_cause, contributing_factors, went_well, \
             went_poorly, status, updated_at FROM reviews WHERE incident_id = $1",
        )
        .bind(incident)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok(Review {
                incident_id: incident,
                sections: (0..7).map(|i| r.try_get(i)).collect::<Result<_, _>>()?,
                status: r.try_get(7)?,
                updated_at: ts(r.try_get(8)?)?,
            })
        })
        .transpose()
    }

    /// Saves an incident's review (creating it with `timeline` prefilled the first time).
    pub async fn save_review(
        &self,
        incident: i64,
        sections: &[String],
        published: bool,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Review, StoreError> {
        self.incident(incident).await?;
        if sections.len() != REVIEW_SECTIONS.len() {
            return Err(Invalid::new("sections", "every section of the template").into());
        }
        let existed = self.review(incident).await?.is_some();
        let mut w = self.write(actor, now).await?;
        let status = if published { "published" } else { "draft" };
        sqlx::query(
            "INSERT INTO reviews (incident_id, summary, customer_impact, timeline, root_cause, \
             contributing_factors, went_well, went_poorly, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (incident_id) DO UPDATE SET summary = excluded.summary, \
             customer_impact = excluded.customer_impact, timeline = excluded.timeline, \
             root_cause = excluded.root_cause, contributing_factors = excluded.contributing_factors, \
             went_well = excluded.went_well, went_poorly = excluded.went_poorly, \
             status = excluded.status, updated_at = excluded.updated_at",
        )
        .bind(incident)
        .bind(&sections[0])
        .bind(&sections[1])
        .bind(&sections[2])
        .bind(&sections[3])
        .bind(&sections[4])
        .bind(&sections[5])
        .bind(&sections[6])
        .bind(status)
        .bind(w.now())
        .execute(&mut *w.tx)
        .await?;
        w.event(
            "incident",
            incident,
            if existed {
                "incident.review_saved"
            } else {
                "incident.review_started"
            },
            false,
            json!({"status": status}),
        )
        .await?;
        w.commit().await?;
        self.review(incident)
            .await?
            .ok_or(StoreError::NotFound("review"))
    }

    /// Creates an action item.
    pub async fn create_action_item(
        &self,
        item: &NewActionItem,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<ActionItem, StoreError> {
        let mut w = self.write(actor, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO action_items (incident_id, problem_id, title, owner_id, due_at, verification, \
             state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $7) RETURNING id",
        )
        .bind(item.incident_id)
        .bind(item.problem_id)
        .bind(&item.title)
        .bind(item.owner_id)
        .bind(item.due_at.as_microsecond())
        .bind(&item.verification)
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await?;
        let (kind, subject) = match (item.incident_id, item.problem_id) {
            (Some(i), _) => ("incident", i),
            (None, Some(p)) => ("problem", p),
            (None, None) => ("action_item", id),
        };
        w.event(
            kind,
            subject,
            "action_item.created",
            false,
            json!({"id": id, "title": item.title, "owner_id": item.owner_id,
                   "due_at": item.due_at.to_string()}),
        )
        .await?;
        w.commit().await?;
        self.action_item(id).await
    }

    /// One action item.
    pub async fn action_item(&self, id: i64) -> Result<ActionItem, StoreError> {
        let row = sqlx::query(&format!("{ITEM_SELECT} WHERE a.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound("action item"))?;
        item_row(&row)
    }

    /// Action items: of an incident, of a problem, of an owner, or all not yet verified.
    pub async fn action_items(
        &self,
        incident: Option<i64>,
        problem: Option<i64>,
        owner: Option<i64>,
        include_verified: bool,
    ) -> Result<Vec<ActionItem>, StoreError> {
        let rows = sqlx::query(&format!(
            "{ITEM_SELECT} WHERE ($1 IS NULL OR a.incident_id = $1) AND ($2 IS NULL OR a.problem_id = $2) \
             AND ($3 IS NULL OR a.owner_id = $3) AND ($4 = 1 OR a.state <> 'verified') \
             ORDER BY a.due_at, a.id LIMIT 500"
        ))
        .bind(incident)
        .bind(problem)
        .bind(owner)
        .bind(i64::from(include_verified))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(item_row).collect()
    }

    /// Moves an action item (open → done → verified; done → open), recording who verified it.
    pub async fn set_action_state(
        &self,
        id: i64,
        to: ActionState,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<ActionItem, StoreError> {
        let item = self.action_item(id).await?;
        item.state.move_to(to, actor == Some(item.owner.id))?;
        let mut w = self.write(actor, now).await?;
        let changed = sqlx::query(
            "UPDATE action_items SET state = $1, updated_at = $2, \
             done_at = CASE WHEN $1 = 'done' THEN $2 ELSE done_at END, \
             verified_at = CASE WHEN $1 = 'verified' THEN $2 ELSE verified_at END, \
             verified_by = CASE WHEN $1 = 'verified' THEN $3 ELSE verified_by END \
             WHERE id = $4 AND state = $5",
        )
        .bind(to.as_str())
        .bind(w.now())
        .bind(actor)
        .bind(id)
        .bind(item.state.as_str())
        .execute(&mut *w.tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "state",
                reason: "the action item changed meanwhile; reload and try again".into(),
            });
        }
        let (kind, subject) = match (item.incident_id, item.problem_id) {
            (Some(i), _) => ("incident", i),
            (None, Some(p)) => ("problem", p),
            (None, None) => ("action_item", id),
        };
        w.event(
            kind,
            subject,
            "action_item.state",
            false,
            json!({"id": id, "title": item.title, "before": item.state.as_str(), "after": to.as_str()}),
        )
        .await?;
        w.commit().await?;
        self.action_item(id).await
    }

    /// Reminds the owners of open action items past due (at most once a day each); answers how
    /// many reminders were sent.
    pub async fn remind_overdue(&self, now: Timestamp) -> Result<usize, StoreError> {
        let day = 24 * 3_600_000_000_i64;
        let due: Vec<(i64, i64, String)> = sqlx::query(
            "SELECT id, owner_id, title FROM action_items WHERE state = 'open' AND due_at < $1 \
             AND (reminded_at IS NULL OR reminded_at < $2) ORDER BY due_at LIMIT 200",
        )
        .bind(now.as_microsecond())
        .bind(now.as_microsecond() - day)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<_, StoreError>>()?;
        if due.is_empty() {
            return Ok(0);
        }
        let mut w = self.write(None, now).await?;
        for (id, owner, title) in &due {
            sqlx::query("UPDATE action_items SET reminded_at = $1 WHERE id = $2")
                .bind(w.now())
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
            sqlx::query(
                "INSERT INTO notifications (user_id, ticket_id, text, created_at) VALUES ($1, NULL, $2, $3)",
            )
            .bind(owner)
            .bind(format!("Action item overdue: {title}"))
            .bind(w.now())
            .execute(&mut *w.tx)
            .await?;
            w.event(
                "action_item",
                *id,
                "action_item.overdue_reminder",
                false,
                json!({"owner_id": owner}),
            )
            .await?;
        }
        w.commit().await?;
        Ok(due.len())
    }

    /// Every problem record, newest first.
    pub async fn problems(&self) -> Result<Vec<Problem>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, title, status, root_cause, workaround, updated_at FROM problems ORDER BY id DESC",
        )
        .fetch_all(&self.read)
        .await?;
        let links = sqlx::query(
            "SELECT problem_id, incident_id FROM problem_incidents ORDER BY incident_id",
        )
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let id: i64 = r.try_get(0)?;
            let mut incident_ids = Vec::new();
            for l in &links {
                if l.try_get::<i64, _>(0)? == id {
                    incident_ids.push(l.try_get(1)?);
                }
            }
            out.push(Problem {
                id,
                title: r.try_get(1)?,
                status: ProblemStatus::parse("status", &r.try_get::<String, _>(2)?)
                    .map_err(corrupt)?,
                root_cause: r.try_get(3)?,
                workaround: r.try_get(4)?,
                incident_ids,
                updated_at: ts(r.try_get(5)?)?,
            });
        }
        Ok(out)
    }

    /// One problem record.
    pub async fn problem(&self, id: i64) -> Result<Problem, StoreError> {
        self.problems()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(StoreError::NotFound("problem"))
    }

    /// Creates (`id` = `None`) or changes a problem record and links incidents to it.
    #[allow(clippy::too_many_arguments)]
    pub async fn save_problem(
        &self,
        id: Option<i64>,
        title: &str,
        status: ProblemStatus,
        root_cause: &str,
        workaround: &str,
        link_incidents: &[i64],
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Problem, StoreError> {
        status.check(root_cause, workaround)?;
        for i in link_incidents {
            self.incident(*i).await.map_err(|_| {
                StoreError::from(Invalid::new("incidents", format!("no incident #{i}")))
            })?;
        }
        let before = match id {
            Some(id) => Some(self.problem(id).await?),
            None => None,
        };
        let mut w = self.write(actor, now).await?;
        let id = match id {
            Some(id) => {
                sqlx::query(
                    "UPDATE problems SET title = $1, status = $2, root_cause = $3, workaround = $4, \
                     updated_at = $5 WHERE id = $6",
                )
                .bind(title)
                .bind(status.as_str())
                .bind(root_cause)
                .bind(workaround)
                .bind(w.now())
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
                id
            }
            None => sqlx::query_scalar(
                "INSERT INTO problems (title, status, root_cause, workaround, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(title)
            .bind(status.as_str())
            .bind(root_cause)
            .bind(workaround)
            .bind(w.now())
            .fetch_one(&mut *w.tx)
            .await?,
        };
        for incident in link_incidents {
            let added = sqlx::query(
                "INSERT INTO problem_incidents (problem_id, incident_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(incident)
            .execute(&mut *w.tx)
            .await?;
            if added.rows_affected() > 0 {
                w.event(
                    "incident",
                    *incident,
                    "incident.problem_linked",
                    false,
                    json!({"problem_id": id}),
                )
                .await?;
            }
        }
        w.event(
            "problem",
            id,
            if before.is_some() {
                "problem.updated"
            } else {
                "problem.created"
            },
            false,
            json!({"before": before.map(|p| json!({"status": p.status.as_str(), "title": p.title})),
                   "after": {"status": status.as_str(), "title": title}}),
        )
        .await?;
        w.commit().await?;
        self.problem(id).await
    }
}
