//! SQLite: dumping tables as JSON rows and writing a copied store in one transaction.

use crate::store::copy::{CopyTable, send_in_batches};
use crate::store::{RestoreSession, Result, StoreError};
use sqlx::SqlitePool;

/// `json_object('a', a, 'b', b, …)` over the table's columns.
fn json_object(table: CopyTable) -> String {
    table
        .columns()
        .iter()
        .map(|c| format!("'{c}', {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) async fn count_rows(pool: &SqlitePool, table: CopyTable) -> Result<u64> {
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
    pool: &SqlitePool,
    table: CopyTable,
    out: tokio::sync::mpsc::Sender<Vec<String>>,
) -> Result<()> {
    // Constant column and table names: no input in this text.
    let sql = format!(
        "SELECT json_object({}) FROM {} ORDER BY {}",
        json_object(table),
        table.name(),
        table.order()
    );
    let mut conn = pool.acquire().await?;
    let rows = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn);
    send_in_batches(rows, &out).await
}

/// A copy being written: one connection inside `BEGIN IMMEDIATE`. Dropped without a commit,
/// the connection is closed, which rolls everything back.
pub struct SqliteRestore {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>,
}

impl Drop for SqliteRestore {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}

impl SqliteRestore {
    pub(super) async fn begin(pool: &SqlitePool) -> Result<Self> {
        let mut conn = pool.acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        Ok(Self { conn: Some(conn) })
    }

    fn conn(&mut self) -> Result<&mut sqlx::SqliteConnection> {
        self.conn
            .as_deref_mut()
            .ok_or_else(|| StoreError::Corrupt("the copy transaction is closed".into()))
    }
}

impl RestoreSession for SqliteRestore {
    async fn put(&mut self, table: CopyTable, rows: &[String]) -> Result<()> {
        let columns = table.columns();
        let values = columns
            .iter()
            .map(|c| format!("json_extract(value, '$.{c}')"))
            .collect::<Vec<_>>()
            .join(", ");
        // Constant column and table names: no input in this text; the rows are bound.
        let sql = format!(
            "INSERT INTO {} ({}) SELECT {values} FROM json_each(?)",
            table.name(),
            columns.join(", ")
        );
        let array = format!("[{}]", rows.join(","));
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(array)
            .execute(self.conn()?)
            .await?;
        Ok(())
    }

    async fn commit(mut self) -> Result<()> {
        sqlx::query("COMMIT").execute(self.conn()?).await?;
        self.conn.take();
        Ok(())
    }
}
