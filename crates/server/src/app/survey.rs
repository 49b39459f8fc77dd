//! The satisfaction survey: the signed link mailed on resolution, and recording an answer
//! from that link or from the requester signed in.

use jiff::Timestamp;
use opsdesk_domain::report::Satisfaction;
use opsdesk_domain::{Action, Actor};
use opsdesk_store::Store;

use crate::error::{ApiError, Code};

/// Who answers a satisfaction survey.
#[derive(Debug, Clone, Copy)]
pub enum Rater<'a> {
    /// A signed-in customer, on a ticket of theirs.
    Customer(&'a Actor),
    /// Whoever holds the signed link mailed to the requester on resolution.
    SignedLink,
}

/// The message a survey link signs.
fn survey_message(ticket_id: i64) -> String {
    format!("csat:{ticket_id}")
}

/// The satisfaction survey link of a ticket, mailed with the resolution notice.
pub fn survey_link(public_url: &str, secret: &str, ticket_id: i64) -> String {
    format!(
        "{public_url}/survey/{ticket_id}?sig={}",
        crate::paging::sign(secret, &survey_message(ticket_id))
    )
}

/// Whether `sig` is the survey signature of `ticket_id`.
pub fn survey_signature_ok(secret: &str, ticket_id: i64, sig: &str) -> bool {
    crate::paging::verify(secret, &survey_message(ticket_id), sig)
}

/// Records a satisfaction answer on a resolved or closed ticket (answering again replaces it).
pub async fn rate_ticket(
    store: &Store,
    by: Rater<'_>,
    ticket_id: i64,
    score: i64,
    comment: &str,
    now: Timestamp,
) -> Result<Satisfaction, ApiError> {
    let ticket = store.ticket(ticket_id).await?;
    let actor = match by {
        Rater::Customer(actor) => {
            actor.authorize(Action::RateSatisfaction(ticket.scope()))?;
            Some(actor.user_id)
        }
        Rater::SignedLink => Some(ticket.requester.id),
    };
    let answer = Satisfaction::parse(score, comment)?;
    if ticket.status.is_active() {
        return Err(ApiError::field(
            Code::Conflict,
            "status",
            "the ticket is not resolved yet",
        ));
    }
    store
        .record_satisfaction(ticket_id, &answer, actor, now)
        .await?;
    Ok(answer)
}

/// The subject of the ticket a survey link names, once its signature holds.
pub async fn surveyed_ticket_subject(
    store: &Store,
    secret: &str,
    ticket_id: i64,
    sig: &str,
) -> Result<String, ApiError> {
    if !survey_signature_ok(secret, ticket_id, sig) {
        return Err(ApiError::new(
            Code::NotFound,
            "This survey link is not valid.",
        ));
    }
    Ok(store.ticket(ticket_id).await?.subject)
}
