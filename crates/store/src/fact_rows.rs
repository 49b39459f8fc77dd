//! A row of `ticket_facts` ([`FactRow`]) and its columns: what the facts writer
//! (`report_facts.rs`) stores and the rollup (`report_rollup.rs`) and the reports fold.

use sqlx::Row;

use crate::sql::Param;
use crate::StoreError;

/// The columns of `ticket_facts`, in the order of [`FactRow::params`]; all but `category` and
/// `channel` are integers.
pub(crate) const COLUMNS: [&str; 36] = [
    "ticket_id",
    "team_id",
    "org_id",
    "assignee_id",
    "priority",
    "tier",
    "category",
    "channel",
    "active",
    "created_at",
    "first_response_at",
    "fr_secs",
    "fr_business_secs",
    "fr_bucket",
    "fr_business_bucket",
    "resolved_at",
    "res_secs",
    "res_business_secs",
    "res_bucket",
    "res_business_bucket",
    "reopens",
    "desk_replies",
    "escalations",
    "tiers_reached",
    "escalated_from",
    "first_contact",
    "fr_met",
    "fr_breached",
    "nr_met",
    "nr_breached",
    "res_met",
    "res_breached",
    "pu_met",
    "pu_breached",
    "csat_score",
    "service_id",
];

/// A first-response or resolution duration: seconds and histogram bucket, in calendar and in
/// business time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) secs: Option<i64>,
    pub(crate) business_secs: Option<i64>,
    pub(crate) bucket: Option<i64>,
    pub(crate) business_bucket: Option<i64>,
}

/// One ticket's row of `ticket_facts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FactRow {
    pub(crate) ticket_id: i64,
    pub(crate) team_id: i64,
    pub(crate) org_id: Option<i64>,
    pub(crate) assignee_id: Option<i64>,
    pub(crate) priority: i64,
    pub(crate) tier: i64,
    pub(crate) category: Option<String>,
    pub(crate) channel: String,
    pub(crate) active: bool,
    pub(crate) created_at: i64,
    pub(crate) first_response_at: Option<i64>,
    pub(crate) first_response: Span,
    pub(crate) resolved_at: Option<i64>,
    pub(crate) resolution: Span,
    pub(crate) reopens: i64,
    pub(crate) desk_replies: i64,
    pub(crate) escalations: i64,
    /// Bit n: the ticket was at tier Ln.
    pub(crate) tiers_reached: i64,
    /// Bit n: the ticket was escalated out of tier Ln.
    pub(crate) escalated_from: i64,
    pub(crate) first_contact: bool,
    /// Met and breached cycles: first response, next response, resolution, periodic update.
    pub(crate) sla: [(i64, i64); 4],
    pub(crate) csat_score: Option<i64>,
    pub(crate) service_id: Option<i64>,
}

impl FactRow {
    /// The row's values in [`COLUMNS`] order.
    pub(crate) fn params(&self) -> Vec<Param> {
        let int = Param::Int;
        let opt = |v: Option<i64>| v.map_or(Param::Null, Param::Int);
        let span = |s: &Span| {
            [
                opt(s.secs),
                opt(s.business_secs),
                opt(s.bucket),
                opt(s.business_bucket),
            ]
        };
        let mut row = vec![
            int(self.ticket_id),
            int(self.team_id),
            opt(self.org_id),
            opt(self.assignee_id),
            int(self.priority),
            int(self.tier),
            self.category.clone().map_or(Param::NullText, Param::Text),
            Param::Text(self.channel.clone()),
            int(i64::from(self.active)),
            int(self.created_at),
            opt(self.first_response_at),
        ];
        row.extend(span(&self.first_response));
        row.push(opt(self.resolved_at));
        row.extend(span(&self.resolution));
        row.extend([
            int(self.reopens),
            int(self.desk_replies),
            int(self.escalations),
            int(self.tiers_reached),
            int(self.escalated_from),
            int(i64::from(self.first_contact)),
        ]);
        for (met, breached) in self.sla {
            row.extend([int(met), int(breached)]);
        }
        row.push(opt(self.csat_score));
        row.push(opt(self.service_id));
        row
    }

    /// Reads a row selected as [`COLUMNS`] (from the first column on).
    pub(crate) fn read(row: &sqlx::any::AnyRow) -> Result<Self, StoreError> {
        let int = |i: usize| row.try_get::<i64, _>(i);
        let opt = |i: usize| row.try_get::<Option<i64>, _>(i);
        let span = |i: usize| -> Result<Span, sqlx::Error> {
            Ok(Span {
                secs: opt(i)?,
                business_secs: opt(i + 1)?,
                bucket: opt(i + 2)?,
                business_bucket: opt(i + 3)?,
            })
        };
        let mut sla = [(0, 0); 4];
        for (m, slot) in sla.iter_mut().enumerate() {
            *slot = (int(26 + 2 * m)?, int(27 + 2 * m)?);
        }
        Ok(Self {
            ticket_id: int(0)?,
            team_id: int(1)?,
            org_id: opt(2)?,
            assignee_id: opt(3)?,
            priority: int(4)?,
            tier: int(5)?,
            category: row.try_get(6)?,
            channel: row.try_get(7)?,
            active: int(8)? != 0,
            created_at: int(9)?,
            first_response_at: opt(10)?,
            first_response: span(11)?,
            resolved_at: opt(15)?,
            resolution: span(16)?,
            reopens: int(20)?,
            desk_replies: int(21)?,
            escalations: int(22)?,
            tiers_reached: int(23)?,
            escalated_from: int(24)?,
            first_contact: int(25)? != 0,
            sla,
            csat_score: opt(34)?,
            service_id: opt(35)?,
        })
    }
}
