//! `jeugdregio import-cbs DIR`: the yearly CBS update from the command line.
//! It prints what the files change, date by date, and (without `--dry-run`)
//! applies each date in one audited transaction as the operator.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use migration::seed::cbs_files::ClassificationFiles;

use crate::auth::Actor;
use crate::config::ImportArgs;
use crate::db;
use crate::registry::{Registry, RegistryError, WriteError};

/// Who the audit log names for an import.
const IMPORTER: &str = "jeugdregio import-cbs";

pub async fn run(args: &ImportArgs) -> anyhow::Result<()> {
    let files = ClassificationFiles::read_dir(&args.dir)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("reading the classification in {}", args.dir.display()))?;
    let (connection, _) = db::open(&args.database.database_url).await?;
    db::migrate(&connection).await?;
    let registry = Registry::new(connection);
    let plan = registry.classification_plan(&files).await.map_err(read_failure)?;
    if plan.is_empty() {
        println!("The registry already holds this classification: nothing to change.");
        return Ok(());
    }
    let total: usize = plan.iter().map(|dated| dated.changes.len()).sum();
    println!("{total} changes on {} dates:", plan.len());
    for dated in &plan {
        println!("{}:", dated.date);
        for change in &dated.changes {
            println!("  {change}");
        }
    }
    if args.dry_run {
        println!("Dry run: nothing written.");
        return Ok(());
    }
    let progress = ProgressBar::new(plan.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} dates {msg}").expect("a valid progress template"),
    );
    let operator = Actor::Operator { subject: IMPORTER.to_owned() };
    for dated in &plan {
        progress.set_message(dated.date.to_string());
        registry.apply_classification(&operator, dated, &args.source).await.map_err(write_failure).with_context(
            || format!("applying the changes of {}; earlier dates are applied, this one is not", dated.date),
        )?;
        progress.inc(1);
    }
    progress.finish_and_clear();
    println!("Applied {total} changes on {} dates; each is in the audit log and the change feed.", plan.len());
    Ok(())
}

/// The registry's errors are not `Display` (callers choose their own shape);
/// on the command line, an operator reads a sentence.
fn read_failure(error: RegistryError) -> anyhow::Error {
    match error {
        RegistryError::InvalidArgument { argument, message }
        | RegistryError::InvalidCursor { argument, message }
        | RegistryError::OutOfCoverage { argument, message, .. } => anyhow::anyhow!("{argument}: {message}"),
        RegistryError::Database(error) => anyhow::anyhow!("database: {error}"),
    }
}

fn write_failure(error: WriteError) -> anyhow::Error {
    match error {
        WriteError::Unauthenticated(message) | WriteError::Forbidden(message) => anyhow::anyhow!(message),
        WriteError::Rejected(problems) => {
            let problems: Vec<String> =
                problems.iter().map(|p| format!("{} ({:?}): {}", p.field.join("."), p.code, p.message)).collect();
            anyhow::anyhow!(problems.join("; "))
        }
        WriteError::Failed(error) => read_failure(error),
    }
}
