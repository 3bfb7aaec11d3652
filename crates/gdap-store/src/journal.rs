//! The journal: [`gdap_onboard::Journal`] on SQLite.
//!
//! Each append is one `INSERT` in its own transaction (autocommit), so an entry is either wholly
//! there or absent after a crash. Entries come back in append order (`seq`, an
//! `AUTOINCREMENT` key, never reused). With [`Durability::Full`] (the default) the append runs
//! under `PRAGMA synchronous=FULL`, so it is on disk before the workflow takes the next step.

use async_trait::async_trait;
use gdap_core::TenantId;
use gdap_onboard::ports::{JournalEntry, RunRecord, StepOutcome};
use gdap_onboard::{Journal, PortError};
use rusqlite::{Connection, params};

use crate::error::{Context, Result, StoreError};
use crate::store::{
    Durability, SqliteStore, code_of, col, fmt_time, from_code, key_of, parse_id, parse_time,
};

const JOURNAL: &str = "journal";

const RUNS: &str = "journal_runs";

const OUTCOMES: &[StepOutcome] = &[
    StepOutcome::Started,
    StepOutcome::Passed,
    StepOutcome::Changed,
    StepOutcome::Skipped,
    StepOutcome::Failed,
    StepOutcome::Cancelled,
];

struct Encoded {
    run_id: String,
    tenant_id: String,
    step: String,
    outcome: String,
    detail: String,
    at: String,
}

fn append(c: &Connection, e: &Encoded, durability: Durability) -> Result<()> {
    let full = durability == Durability::Full;
    if full {
        c.pragma_update(None, "synchronous", "FULL")
            .ctx("set synchronous=FULL")?;
    }
    let inserted = c
        .prepare_cached(
            "INSERT INTO journal (run_id, tenant_id, step, outcome, detail, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut s| {
            s.execute(params![
                e.run_id,
                e.tenant_id,
                e.step,
                e.outcome,
                e.detail,
                e.at
            ])
        })
        .ctx("append a journal entry");
    if full {
        // The entry is written (or not) already: a failed reset must not report the append as
        // failed, or the caller might append it again.
        if let Err(e) = c.pragma_update(None, "synchronous", "NORMAL") {
            tracing::warn!(error = %e, "gdap-store: could not reset synchronous=NORMAL");
        }
    }
    inserted.map(|_| ())
}

fn entries(c: &Connection, run_id: &str) -> Result<Vec<JournalEntry>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT seq, run_id, tenant_id, step, outcome, detail, at
             FROM journal WHERE run_id = ?1 ORDER BY seq",
        )
        .ctx("read journal entries")?;
    let mut rows = stmt.query([run_id]).ctx("read journal entries")?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().ctx("read journal entries")? {
        let key = key_of(row, 0);
        let run_id: String = col(row, 1, JOURNAL, &key)?;
        let tenant: String = col(row, 2, JOURNAL, &key)?;
        let step: String = col(row, 3, JOURNAL, &key)?;
        let outcome: String = col(row, 4, JOURNAL, &key)?;
        let detail: String = col(row, 5, JOURNAL, &key)?;
        let at: String = col(row, 6, JOURNAL, &key)?;
        out.push(JournalEntry::new(
            run_id,
            parse_id::<TenantId>(JOURNAL, &key, &tenant)?,
            step,
            from_code(OUTCOMES, &outcome, JOURNAL, &key, "outcome")?,
            detail,
            parse_time(JOURNAL, &key, &at)?,
        ));
    }
    Ok(out)
}

fn is_done(c: &Connection, run_id: &str, tenant: &str, step: &str) -> Result<bool> {
    let passed = code_of(&StepOutcome::Passed)?;
    let changed = code_of(&StepOutcome::Changed)?;
    c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM journal
           WHERE run_id = ?1 AND tenant_id = ?2 AND step = ?3 AND outcome IN (?4, ?5))",
    )
    .and_then(|mut s| s.query_row(params![run_id, tenant, step, passed, changed], |r| r.get(0)))
    .ctx("check a journal step")
}

fn put_run(c: &Connection, run_id: &str, kind: &str, spec: &str, created_at: &str) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO journal_runs (run_id, kind, spec, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (run_id) DO UPDATE SET
           kind = excluded.kind, spec = excluded.spec, created_at = excluded.created_at",
    )
    .and_then(|mut s| s.execute(params![run_id, kind, spec, created_at]))
    .map(|_| ())
    .ctx("write a run header")
}

fn query_runs(c: &Connection, tail: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<RunRecord>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT run_id, kind, spec, created_at FROM journal_runs {tail}"
        ))
        .ctx("read run headers")?;
    let mut rows = stmt.query(args).ctx("read run headers")?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().ctx("read run headers")? {
        let key = key_of(row, 0);
        let run_id: String = col(row, 0, RUNS, &key)?;
        let kind: String = col(row, 1, RUNS, &key)?;
        let spec: String = col(row, 2, RUNS, &key)?;
        let created: String = col(row, 3, RUNS, &key)?;
        let spec = serde_json::from_str(&spec)
            .map_err(|e| StoreError::corrupt(RUNS, &key, format!("bad spec JSON: {e}")))?;
        out.push(RunRecord::new(
            run_id,
            kind,
            spec,
            parse_time(RUNS, &key, &created)?,
        ));
    }
    Ok(out)
}

impl SqliteStore {
    /// Deletes a run: its header and its entries. Returns how many entries there were.
    pub async fn delete_journal_run(&self, run_id: &str) -> Result<u64> {
        let run_id = run_id.to_owned();
        self.call(move |c| {
            let tx = c.transaction().ctx("delete a journal run")?;
            let n = tx
                .execute("DELETE FROM journal WHERE run_id = ?1", [&run_id])
                .ctx("delete a journal run")?;
            tx.execute("DELETE FROM journal_runs WHERE run_id = ?1", [&run_id])
                .ctx("delete a journal run")?;
            tx.commit().ctx("delete a journal run")?;
            Ok(n as u64)
        })
        .await
    }
}

#[async_trait]
impl Journal for SqliteStore {
    async fn append(&self, entry: &JournalEntry) -> Result<(), PortError> {
        let encoded = Encoded {
            run_id: entry.run_id.clone(),
            tenant_id: entry.tenant_id.to_string(),
            step: entry.step.clone(),
            outcome: code_of(&entry.outcome)?,
            detail: entry.detail.clone(),
            at: fmt_time(entry.at)?,
        };
        let durability = self.options().journal_durability;
        Ok(self.call(move |c| append(c, &encoded, durability)).await?)
    }

    async fn put_run(&self, run: &RunRecord) -> Result<(), PortError> {
        let (run_id, kind) = (run.run_id.clone(), run.kind.clone());
        let spec = run.spec.to_string();
        let created = fmt_time(run.created_at)?;
        Ok(self
            .call(move |c| put_run(c, &run_id, &kind, &spec, &created))
            .await?)
    }

    async fn get_run(&self, run_id: &str) -> Result<Option<RunRecord>, PortError> {
        let run_id = run_id.to_owned();
        Ok(self
            .read(move |c| {
                Ok(query_runs(c, "WHERE run_id = ?1", &[&run_id])?
                    .into_iter()
                    .next())
            })
            .await?)
    }

    async fn list_runs(&self) -> Result<Vec<RunRecord>, PortError> {
        Ok(self
            .read(|c| query_runs(c, "ORDER BY created_at, seq", &[]))
            .await?)
    }

    async fn entries(&self, run_id: &str) -> Result<Vec<JournalEntry>, PortError> {
        let run_id = run_id.to_owned();
        Ok(self.read(move |c| entries(c, &run_id)).await?)
    }

    async fn is_done(
        &self,
        run_id: &str,
        tenant: &TenantId,
        step: &str,
    ) -> Result<bool, PortError> {
        let (run_id, tenant, step) = (run_id.to_owned(), tenant.to_string(), step.to_owned());
        Ok(self
            .read(move |c| is_done(c, &run_id, &tenant, &step))
            .await?)
    }
}
