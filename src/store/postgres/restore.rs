//! PostgreSQL: dumping tables as JSON rows and writing a copied store in one transaction.

use crate::store::copy::{CopyTable, send_in_batches};
use crate::store::{RestoreSession, Result, StoreError};
use sqlx::postgres::PgPool;

pub(super) async fn count_rows(pool: &PgPool, table: CopyTable) -> Result<u64> {
    // A constant table name: no input in this text.
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {}",
        table.name()
    )))
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) async fn dump(
    pool: &PgPool,
    table: CopyTable,
    out: tokio::sync::mpsc::Sender<Vec<String>>,
) -> Result<()> {
    let pairs = table
        .columns()
        .iter()
        .map(|c| format!("'{c}', {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    // Constant column and table names: no input in this text.
    let sql = format!(
        "SELECT json_build_object({pairs})::text FROM {} ORDER BY {}",
        table.name(),
        table.order()
    );
    let mut conn = pool.acquire().await?;
    let rows = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn);
    send_in_batches(rows, &out).await
}

/// A copy being written: one transaction (`sqlx::Transaction` rolls back when dropped).
pub struct PgRestore {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
}

impl PgRestore {
    pub(super) async fn begin(pool: &PgPool) -> Result<Self> {
        Ok(Self {
            tx: pool.begin().await?,
        })
    }
}

impl RestoreSession for PgRestore {
    async fn put(&mut self, table: CopyTable, rows: &[String]) -> Result<()> {
        let columns = table.columns().join(", ");
        // Constant column and table names: no input in this text; the rows are bound.
        let sql = format!(
            "INSERT INTO {t} ({columns}) SELECT {columns} FROM json_populate_recordset(NULL::{t}, $1::json)",
            t = table.name()
        );
        let array = format!("[{}]", rows.join(","));
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(array)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn commit(mut self) -> Result<()> {
        // Copied ids were given explicitly: new rows must be numbered after them.
        for table in CopyTable::ALL {
            if table.order() != "id" {
                continue;
            }
            // A constant table name: no input in this text.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), coalesce((SELECT max(id) FROM {t}), 0) + 1, false)",
                t = table.name()
            )))
            .execute(&mut *self.tx)
            .await
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", table.name())))?;
        }
        self.tx.commit().await?;
        Ok(())
    }
}
