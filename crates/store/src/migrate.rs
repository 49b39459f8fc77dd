//! Schema migrations: numbered SQL files per dialect, embedded in the binary.

use sqlx::{AnyPool, Row};

use crate::{Backend, StoreError};

/// (version, SQLite text, PostgreSQL text). DDL is the one place the dialects differ.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        include_str!("../migrations/sqlite/0001_init.sql"),
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../migrations/sqlite/0002_ticket_counts.sql"),
        include_str!("../migrations/postgres/0002_ticket_counts.sql"),
    ),
    (
        3,
        include_str!("../migrations/sqlite/0003_idempotent_requests.sql"),
        include_str!("../migrations/postgres/0003_idempotent_requests.sql"),
    ),
    (
        4,
        include_str!("../migrations/sqlite/0004_user_active.sql"),
        include_str!("../migrations/postgres/0004_user_active.sql"),
    ),
    (
        5,
        include_str!("../migrations/sqlite/0005_sla.sql"),
        include_str!("../migrations/postgres/0005_sla.sql"),
    ),
    (
        6,
        include_str!("../migrations/sqlite/0006_vendors.sql"),
        include_str!("../migrations/postgres/0006_vendors.sql"),
    ),
    (
        7,
        include_str!("../migrations/sqlite/0007_incidents.sql"),
        include_str!("../migrations/postgres/0007_incidents.sql"),
    ),
    (
        8,
        include_str!("../migrations/sqlite/0008_oncall.sql"),
        include_str!("../migrations/postgres/0008_oncall.sql"),
    ),
    (
        9,
        include_str!("../migrations/sqlite/0009_status_page.sql"),
        include_str!("../migrations/postgres/0009_status_page.sql"),
    ),
    (
        10,
        include_str!("../migrations/sqlite/0010_reviews.sql"),
        include_str!("../migrations/postgres/0010_reviews.sql"),
    ),
    (
        11,
        include_str!("../migrations/sqlite/0011_mail.sql"),
        include_str!("../migrations/postgres/0011_mail.sql"),
    ),
    (
        12,
        include_str!("../migrations/sqlite/0012_knowledge.sql"),
        include_str!("../migrations/postgres/0012_knowledge.sql"),
    ),
    (
        13,
        include_str!("../migrations/sqlite/0013_runbooks.sql"),
        include_str!("../migrations/postgres/0013_runbooks.sql"),
    ),
    (
        14,
        include_str!("../migrations/sqlite/0014_reports.sql"),
        include_str!("../migrations/postgres/0014_reports.sql"),
    ),
    (
        15,
        include_str!("../migrations/sqlite/0015_report_rollup.sql"),
        include_str!("../migrations/postgres/0015_report_rollup.sql"),
    ),
    (
        16,
        include_str!("../migrations/sqlite/0016_report_rollup_desk.sql"),
        include_str!("../migrations/postgres/0016_report_rollup_desk.sql"),
    ),
    (
        17,
        include_str!("../migrations/sqlite/0017_incident_status_spans.sql"),
        include_str!("../migrations/postgres/0017_incident_status_spans.sql"),
    ),
    (
        18,
        include_str!("../migrations/sqlite/0018_ticket_facts_org_covering.sql"),
        include_str!("../migrations/postgres/0018_ticket_facts_org_covering.sql"),
    ),
    (
        19,
        include_str!("../migrations/sqlite/0019_ticket_service.sql"),
        include_str!("../migrations/postgres/0019_ticket_service.sql"),
    ),
    (
        20,
        include_str!("../migrations/sqlite/0020_histogram_add.sql"),
        include_str!("../migrations/postgres/0020_histogram_add.sql"),
    ),
    (
        21,
        include_str!("../migrations/sqlite/0021_counts_per_statement.sql"),
        include_str!("../migrations/postgres/0021_counts_per_statement.sql"),
    ),
    (
        22,
        include_str!("../migrations/sqlite/0022_derived_backlog.sql"),
        include_str!("../migrations/postgres/0022_derived_backlog.sql"),
    ),
];

/// Key of the PostgreSQL advisory lock that keeps two starting processes from migrating at once.
const MIGRATION_LOCK: i64 = 0x6f70_7364_6d69;

pub(crate) async fn run(
    pool: &AnyPool,
    backend: Backend,
    now: jiff::Timestamp,
) -> Result<usize, StoreError> {
    let mut conn = pool.acquire().await?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply(&mut conn, backend, now).await;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    now: jiff::Timestamp,
) -> Result<usize, StoreError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| row.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    let mut count = 0;
    for (version, sqlite, postgres) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        let text = match backend {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        };
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        sqlx::raw_sql(text).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(now.as_microsecond())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version, "applied migration");
        count += 1;
    }
    Ok(count)
}
