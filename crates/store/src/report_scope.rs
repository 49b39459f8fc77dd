//! Which tickets a report counts ([`ReportScope`]) and the SQL filter it becomes: read by the
//! report queries over facts (`reports.rs`) and over rollups (`report_rollup.rs`).

use crate::sql::{Param, Sql};

/// Which tickets a report counts (every field narrows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportScope {
    /// The ticket's team now.
    pub team_id: Option<i64>,
    /// The ticket's organisation.
    pub org_id: Option<i64>,
    /// Priority rank (1 = P1).
    pub priority: Option<i64>,
    /// Tier level now (0 = L0).
    pub tier: Option<i64>,
    /// Category.
    pub category: Option<String>,
    /// Assignee now (an agent's own report).
    pub assignee_id: Option<i64>,
    /// The service the ticket is about.
    pub service_id: Option<i64>,
}

impl ReportScope {
    /// The rollup dimensions it narrows, each with its value (the organisation is not one).
    pub(crate) fn dimension_filters(&self) -> Vec<(&'static str, Param)> {
        [
            ("team_id", self.team_id.map(Param::Int)),
            ("priority", self.priority.map(Param::Int)),
            ("tier", self.tier.map(Param::Int)),
            ("category", self.category.clone().map(Param::Text)),
            ("assignee_id", self.assignee_id.map(Param::Int)),
            ("service_id", self.service_id.map(Param::Int)),
        ]
        .into_iter()
        .filter_map(|(column, value)| Some((column, value?)))
        .collect()
    }
}

/// ` AND f.<column> = <value>` for every filter of the scope (facts aliased `f`).
pub(crate) fn scoped(sql: &mut Sql, scope: &ReportScope) {
    let org = scope.org_id.map(|id| ("org_id", Param::Int(id)));
    for (column, value) in org.into_iter().chain(scope.dimension_filters()) {
        sql.push(&format!(" AND f.{column} = "));
        sql.bind(value);
    }
}
