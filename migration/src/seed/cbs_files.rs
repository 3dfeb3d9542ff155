//! A CBS classification history in the format of `shared/data/history/`:
//! `regions.csv`, `municipalities.csv`, `memberships.csv` and `lineage.csv`
//! (UTF-8, header row, ISO dates, `valid_to` exclusive and empty while open).
//! The seed reads the copy compiled into the binary; `jeugdregio import-cbs`
//! reads a directory, for the yearly update.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

/// A code with a name during `[valid_from, valid_to)`; `province_code` is an
/// optional column of `municipalities.csv` (for municipalities that begin).
#[derive(Debug, Deserialize, Clone)]
pub struct NamePeriod {
    pub code: String,
    pub name: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    #[serde(default)]
    pub province_code: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct MembershipRow {
    pub municipality_code: String,
    pub region_code: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, Clone)]
pub struct LineageRow {
    pub effective_date: NaiveDate,
    pub old_code: String,
    pub new_code: String,
    pub area_share: Option<f64>,
    pub area_km2: Option<f64>,
    /// `main`, `part` or `minor`.
    pub kind: String,
}

/// The classification of every year of a history.
#[derive(Debug, Clone)]
pub struct ClassificationFiles {
    pub regions: Vec<NamePeriod>,
    pub municipalities: Vec<NamePeriod>,
    pub memberships: Vec<MembershipRow>,
    pub lineage: Vec<LineageRow>,
}

/// What the classification says on one date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassificationState {
    /// Municipality code -> (name, region code).
    pub municipalities: BTreeMap<String, (String, String)>,
    /// Region code -> name.
    pub regions: BTreeMap<String, String>,
}

/// Known errors of the published files: (code, name as published, name as
/// meant, why). The seed records the name as meant, with the reason in its source.
pub const ERRATA: [(&str, &str, &str, &str); 1] = [(
    "GM0820",
    "Nuenen. Gerwen en Nederwetten",
    "Nuenen, Gerwen en Nederwetten",
    "The CBS files of 2015 and 2016 spell the name 'Nuenen. Gerwen en Nederwetten', almost certainly a typing \
     error (see the data set's README); recorded with the comma, as from 2017",
)];

pub const FILES: [&str; 4] = ["regions.csv", "municipalities.csv", "memberships.csv", "lineage.csv"];

fn rows<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<Vec<T>, String> {
    csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes())
        .deserialize()
        .collect::<Result<Vec<T>, _>>()
        .map_err(|error| format!("{file}: {error}"))
}

fn valid_on(from: NaiveDate, to: Option<NaiveDate>, date: NaiveDate) -> bool {
    from <= date && to.is_none_or(|to| date < to)
}

impl ClassificationFiles {
    /// The four files' texts, in the order of [`FILES`].
    pub fn parse(texts: [&str; 4]) -> Result<Self, String> {
        let files = ClassificationFiles {
            regions: rows(FILES[0], texts[0])?,
            municipalities: rows(FILES[1], texts[1])?,
            memberships: rows(FILES[2], texts[2])?,
            lineage: rows(FILES[3], texts[3])?,
        };
        files.check()?;
        Ok(files)
    }

    pub fn read_dir(dir: &Path) -> Result<Self, String> {
        let mut texts = Vec::new();
        for file in FILES {
            let path = dir.join(file);
            texts.push(std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))?);
        }
        Self::parse([&texts[0], &texts[1], &texts[2], &texts[3]])
    }

    /// Every municipality in exactly one region on each date, every period
    /// non-empty: a file that breaks this is refused before anything is read from it.
    fn check(&self) -> Result<(), String> {
        let empty = |from: NaiveDate, to: Option<NaiveDate>| to.is_some_and(|to| to <= from);
        if let Some(p) = self.municipalities.iter().chain(&self.regions).find(|p| empty(p.valid_from, p.valid_to)) {
            return Err(format!("{}: the period {} to {:?} is empty", p.code, p.valid_from, p.valid_to));
        }
        for date in self.change_dates() {
            let state = self.state_on(date);
            let existing = self.municipalities.iter().filter(|m| valid_on(m.valid_from, m.valid_to, date)).count();
            let unique: BTreeSet<&String> = self
                .municipalities
                .iter()
                .filter(|m| valid_on(m.valid_from, m.valid_to, date))
                .map(|m| &m.code)
                .collect();
            if unique.len() != existing {
                return Err(format!("on {date} a municipality has two names"));
            }
            if state.municipalities.len() != existing {
                return Err(format!("on {date} not every municipality is in exactly one region"));
            }
        }
        Ok(())
    }

    /// The dates on which something begins or ends, in order.
    pub fn change_dates(&self) -> BTreeSet<NaiveDate> {
        let periods = self.municipalities.iter().chain(&self.regions).flat_map(|p| [Some(p.valid_from), p.valid_to]);
        let memberships = self.memberships.iter().flat_map(|m| [Some(m.valid_from), m.valid_to]);
        periods.chain(memberships).flatten().collect()
    }

    pub fn state_on(&self, date: NaiveDate) -> ClassificationState {
        let names: BTreeMap<&String, &String> = self
            .municipalities
            .iter()
            .filter(|m| valid_on(m.valid_from, m.valid_to, date))
            .map(|m| (&m.code, &m.name))
            .collect();
        let mut municipalities = BTreeMap::new();
        for m in self.memberships.iter().filter(|m| valid_on(m.valid_from, m.valid_to, date)) {
            if let Some(name) = names.get(&m.municipality_code) {
                let previous =
                    municipalities.insert(m.municipality_code.clone(), ((*name).clone(), m.region_code.clone()));
                if previous.is_some() {
                    // Two regions on one date: `check` counts this as a failure.
                    municipalities.remove(&m.municipality_code);
                }
            }
        }
        let regions = self
            .regions
            .iter()
            .filter(|r| valid_on(r.valid_from, r.valid_to, date))
            .map(|r| (r.code.clone(), r.name.clone()))
            .collect();
        ClassificationState { municipalities, regions }
    }

    /// The history as it stood before `date`: what begins on or after it is
    /// left out and what ends on or after it is open. A registry seeded with
    /// this is "the registry of the year before", to which `import-cbs` can
    /// apply the following years.
    pub fn before(mut self, date: NaiveDate) -> Self {
        fn cut(from: NaiveDate, to: &mut Option<NaiveDate>, date: NaiveDate) -> bool {
            if to.is_some_and(|to| to >= date) {
                *to = None;
            }
            from < date
        }
        self.regions.retain_mut(|p| cut(p.valid_from, &mut p.valid_to, date));
        self.municipalities.retain_mut(|p| cut(p.valid_from, &mut p.valid_to, date));
        self.memberships.retain_mut(|m| cut(m.valid_from, &mut m.valid_to, date));
        self.lineage.retain(|l| l.effective_date < date);
        self
    }

    /// The files with [`ERRATA`] corrected: a name period that differed only
    /// by the error joins its neighbour.
    pub fn with_errata(mut self) -> Self {
        for (code, published, meant, _) in ERRATA {
            for period in self.municipalities.iter_mut().filter(|p| p.code == code && p.name == published) {
                period.name = meant.to_owned();
            }
        }
        self.municipalities.sort_by(|a, b| (&a.code, a.valid_from).cmp(&(&b.code, b.valid_from)));
        let mut joined: Vec<NamePeriod> = Vec::new();
        for period in std::mem::take(&mut self.municipalities) {
            match joined.last_mut() {
                Some(last)
                    if last.code == period.code
                        && last.name == period.name
                        && last.valid_to == Some(period.valid_from) =>
                {
                    last.valid_to = period.valid_to;
                }
                _ => joined.push(period),
            }
        }
        self.municipalities = joined;
        self
    }

    /// One row per (municipality, region) period, in code and date order: the
    /// files split a period where only the municipality's name changed, which
    /// is not a change of region.
    pub fn region_periods(mut rows: Vec<MembershipRow>) -> Vec<MembershipRow> {
        rows.sort_by(|a, b| (&a.municipality_code, a.valid_from).cmp(&(&b.municipality_code, b.valid_from)));
        let mut merged: Vec<MembershipRow> = Vec::new();
        for row in rows {
            match merged.last_mut() {
                Some(last)
                    if last.municipality_code == row.municipality_code
                        && last.region_code == row.region_code
                        && last.valid_to == Some(row.valid_from) =>
                {
                    last.valid_to = row.valid_to;
                }
                _ => merged.push(row),
            }
        }
        merged
    }

    /// Periods of one code, in date order, checked to follow each other without a gap.
    pub fn by_code(rows: &[NamePeriod]) -> Result<BTreeMap<String, Vec<NamePeriod>>, String> {
        let mut grouped: BTreeMap<String, Vec<NamePeriod>> = BTreeMap::new();
        for row in rows {
            grouped.entry(row.code.clone()).or_default().push(row.clone());
        }
        for (code, periods) in grouped.iter_mut() {
            periods.sort_by_key(|p| p.valid_from);
            if periods.windows(2).any(|pair| pair[0].valid_to != Some(pair[1].valid_from)) {
                return Err(format!("{code}: the periods of its names do not follow each other"));
            }
        }
        Ok(grouped)
    }
}
