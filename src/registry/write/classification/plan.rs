//! What a classification file changes: every transition of the files (a
//! municipality begins, ends, is renamed or changes region; a region is
//! renamed) that the registry does not hold yet, date by date.

use std::fmt;

use chrono::NaiveDate;
use entity::enums::LineageKind;
use migration::seed::cbs_files::{ClassificationFiles, ClassificationState};
use serde::Serialize;

use crate::registry::{Registry, RegistryError};

/// One change of the classification on a date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ClassificationChange {
    Begins {
        code: String,
        name: String,
        region: String,
        province: Option<String>,
    },
    Renamed {
        code: String,
        from: String,
        to: String,
    },
    MovesRegion {
        code: String,
        from: String,
        to: String,
    },
    /// `successors`: `(code, kind, area share, km²)`, the main successor first.
    Ends {
        code: String,
        name: String,
        successors: Vec<(String, LineageKind, Option<f64>, Option<f64>)>,
    },
    RegionRenamed {
        code: String,
        from: String,
        to: String,
    },
}

/// The changes that take effect on one date.
#[derive(Debug, Clone, Serialize)]
pub struct DatedChanges {
    pub date: NaiveDate,
    pub changes: Vec<ClassificationChange>,
}

impl fmt::Display for ClassificationChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Begins { code, name, region, .. } => write!(f, "new municipality {code} {name}, in region {region}"),
            Self::Renamed { code, from, to } => write!(f, "{code} renamed: {from} -> {to}"),
            Self::MovesRegion { code, from, to } => write!(f, "{code} changes region: {from} -> {to}"),
            Self::Ends { code, name, successors } => {
                let went: Vec<String> = successors
                    .iter()
                    .map(|(to, kind, share, _)| match share {
                        Some(share) => format!("{to} ({kind:?}, {share:.3})"),
                        None => format!("{to} ({kind:?})"),
                    })
                    .collect();
                write!(f, "{code} {name} ends; its territory goes to {}", went.join(", "))
            }
            Self::RegionRenamed { code, from, to } => write!(f, "region {code} renamed: {from} -> {to}"),
        }
    }
}

/// A `kind` of `lineage.csv`.
pub(super) fn kind_of(text: &str) -> Result<LineageKind, RegistryError> {
    match text {
        "main" => Ok(LineageKind::Main),
        "part" => Ok(LineageKind::Part),
        "minor" => Ok(LineageKind::Minor),
        other => Err(RegistryError::invalid("lineage.csv", format!("unknown kind {other}"))),
    }
}

/// The transitions of the files on `date` that `registry` (the registry's own state then) does not hold.
fn changes_on(
    files: &ClassificationFiles,
    date: NaiveDate,
    registry: &ClassificationState,
) -> Result<Vec<ClassificationChange>, RegistryError> {
    let before = files.state_on(date.pred_opt().unwrap_or(date));
    let after = files.state_on(date);
    let mut changes = Vec::new();
    for (code, (name, region)) in &after.municipalities {
        let held = registry.municipalities.get(code);
        match before.municipalities.get(code) {
            None if held.is_none() => {
                let province = files
                    .municipalities
                    .iter()
                    .find(|m| &m.code == code && m.valid_from == date)
                    .and_then(|m| m.province_code.clone());
                changes.push(ClassificationChange::Begins {
                    code: code.clone(),
                    name: name.clone(),
                    region: region.clone(),
                    province,
                });
            }
            Some((old_name, _)) if old_name != name && held.is_some_and(|(n, _)| n != name) => changes
                .push(ClassificationChange::Renamed { code: code.clone(), from: old_name.clone(), to: name.clone() }),
            _ => {}
        }
        if let (Some((_, old_region)), Some((_, held_region))) = (before.municipalities.get(code), held)
            && old_region != region
            && held_region != region
        {
            let change =
                ClassificationChange::MovesRegion { code: code.clone(), from: old_region.clone(), to: region.clone() };
            changes.push(change);
        }
    }
    for (code, (name, _)) in &before.municipalities {
        if after.municipalities.contains_key(code) || !registry.municipalities.contains_key(code) {
            continue;
        }
        let mut successors = Vec::new();
        for link in files.lineage.iter().filter(|l| &l.old_code == code && l.effective_date == date) {
            successors.push((link.new_code.clone(), kind_of(&link.kind)?, link.area_share, link.area_km2));
        }
        successors.sort_by_key(|s| s.1 != LineageKind::Main);
        if successors.first().is_none_or(|s| s.1 != LineageKind::Main) {
            return Err(RegistryError::invalid(
                "lineage.csv",
                format!("{code} ends on {date} without a main successor"),
            ));
        }
        changes.push(ClassificationChange::Ends { code: code.clone(), name: name.clone(), successors });
    }
    for (code, name) in &after.regions {
        if let (Some(old), Some(held)) = (before.regions.get(code), registry.regions.get(code))
            && old != name
            && held != name
        {
            changes.push(ClassificationChange::RegionRenamed {
                code: code.clone(),
                from: old.clone(),
                to: name.clone(),
            });
        }
    }
    Ok(changes)
}

impl Registry {
    /// What applying `files` would change, date by date (dates without changes left out).
    pub async fn classification_plan(&self, files: &ClassificationFiles) -> Result<Vec<DatedChanges>, RegistryError> {
        let mut plan: Vec<DatedChanges> = Vec::new();
        for date in files.change_dates() {
            // The registry as it will be once the earlier dates are applied: a
            // change can depend on one before it (begins, then is renamed).
            let mut registry = self.classification_on(date).await?;
            for change in plan.iter().flat_map(|dated| &dated.changes) {
                change.apply_to(&mut registry);
            }
            let changes = changes_on(files, date, &registry)?;
            if !changes.is_empty() {
                plan.push(DatedChanges { date, changes });
            }
        }
        Ok(plan)
    }
}

impl ClassificationChange {
    /// What the change does to the classification of any later date.
    fn apply_to(&self, state: &mut ClassificationState) {
        match self {
            Self::Begins { code, name, region, .. } => {
                state.municipalities.insert(code.clone(), (name.clone(), region.clone()));
            }
            Self::Ends { code, .. } => {
                state.municipalities.remove(code);
            }
            Self::Renamed { code, to, .. } => {
                if let Some(entry) = state.municipalities.get_mut(code) {
                    entry.0 = to.clone();
                }
            }
            Self::MovesRegion { code, to, .. } => {
                if let Some(entry) = state.municipalities.get_mut(code) {
                    entry.1 = to.clone();
                }
            }
            Self::RegionRenamed { code, to, .. } => {
                state.regions.insert(code.clone(), to.clone());
            }
        }
    }
}
