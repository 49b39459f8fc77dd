//! Answering a page from its signed link: the incident's status move, the answer and the end
//! of paging in one transaction. Apart from `oncall.rs` because it changes an incident, and
//! incidents start and stop paging: this module depends on both, neither on it.

use jiff::Timestamp;
use opsdesk_domain::IncidentStatus;

use crate::{IncidentChanges, PageRecord, Store, StoreError};

impl Store {
    /// Answers a page from its signed link: acknowledges (if only triggered) or resolves the
    /// incident as the paged person, and stops paging. Answering twice changes nothing.
    pub async fn answer_page(
        &self,
        page: i64,
        resolve: bool,
        now: Timestamp,
    ) -> Result<PageRecord, StoreError> {
        let record = self.page(page).await?;
        if let Some(state) = self.paging_state(record.incident_id).await? {
            if state.run != record.run {
                return Err(StoreError::Conflict {
                    field: "page",
                    reason: "this page is from an earlier paging of the incident; open the incident instead"
                        .into(),
                });
            }
        }
        let incident = self.incident(record.incident_id).await?;
        let target = if resolve {
            IncidentStatus::Resolved
        } else {
            IncidentStatus::Acknowledged
        };
        let moves = match (incident.status, resolve) {
            (IncidentStatus::Resolved, _) => false,
            (IncidentStatus::Triggered, false) => true,
            (_, false) => false,
            (_, true) => true,
        };
        // The status move, the answer and the end of paging commit together.
        let mut w = self.write(Some(record.user.id), now).await?;
        if moves {
            crate::incidents::change_incident_in(
                &mut w,
                record.incident_id,
                &IncidentChanges {
                    status: Some(target),
                    ..IncidentChanges::default()
                },
            )
            .await?;
        }
        sqlx::query(
            "UPDATE pages SET answered_at = $1, answer = $2 WHERE id = $3 AND answered_at IS NULL",
        )
        .bind(w.now())
        .bind(if resolve { "resolve" } else { "acknowledge" })
        .bind(page)
        .execute(&mut *w.tx)
        .await?;
        crate::oncall::stop_paging_in(
            &mut w,
            record.incident_id,
            if resolve { "resolved" } else { "acknowledged" },
        )
        .await?;
        w.commit().await?;
        self.page(page).await
    }
}
