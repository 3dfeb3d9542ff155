//! The national seed: the CBS regional classification of every year since
//! 2015 (regions, municipalities, provinces, landsdelen, memberships, names
//! and lineage; `classification.rs`), the cooperations, roles, care forms,
//! providers and framework contracts stated in public source documents, and
//! the care-form arrangements of annex B of the Samen voor Jeugd regiovisie
//! (`arrangements.rs`).
//!
//! The seed files are compiled into the binary so `serve` works from any
//! directory. Seeding runs in one transaction and only on an empty registry.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::enums::{Instrument, Participation, RoleKind, Scale};
use entity::*;
use sea_orm_migration::sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionTrait,
};
use serde::Deserialize;

mod arrangements;
pub mod cbs_files;
mod classification;

pub use classification::{CBS_HISTORY_SOURCE, bundled_history, coverage_start};

const SOURCE_DOCUMENTS_TOML: &str = include_str!("../../seed/source-documents.toml");

#[derive(Deserialize)]
pub(crate) struct CodeName {
    code: String,
    name: String,
}

#[derive(Deserialize)]
struct SourceDocuments {
    documents: HashMap<String, String>,
    care_forms: Vec<CareFormFact>,
    providers: Vec<ProviderFact>,
    cooperations: Vec<CooperationFact>,
    roles: Vec<RoleFact>,
    framework_contracts: Vec<ContractFact>,
}

/// When a fact held: every dated fact names the day it starts, or, where the
/// source states no start, the earliest day the source vouches for it.
#[derive(Deserialize, Clone, Copy)]
struct FactDates {
    valid_from: NaiveDate,
    #[serde(default)]
    valid_from_is_lower_bound: bool,
    valid_to: Option<NaiveDate>,
}

impl FactDates {
    /// The part of these dates in which a municipality living `[from, to)` exists;
    /// a start moved to the municipality's own start stays "at least since",
    /// as the source names the members of a later date.
    fn within(self, (from, to): (NaiveDate, Option<NaiveDate>)) -> Option<FactDates> {
        let (valid_from, valid_from_is_lower_bound) =
            if from > self.valid_from { (from, true) } else { (self.valid_from, self.valid_from_is_lower_bound) };
        let valid_to = match (self.valid_to, to) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        valid_to.is_none_or(|end| end > valid_from).then_some(FactDates {
            valid_from,
            valid_from_is_lower_bound,
            valid_to,
        })
    }
}

#[derive(Deserialize)]
struct CareFormFact {
    code: String,
    name: String,
    name_en: String,
    source: String,
    derivation: Option<String>,
}

#[derive(Deserialize)]
struct ProviderFact {
    code: String,
    name: String,
    certified_institution: Option<bool>,
    source: String,
    note: Option<String>,
}

#[derive(Deserialize)]
struct CooperationFact {
    code: String,
    name: String,
    scale: String,
    instrument: Option<String>,
    description: Option<String>,
    #[serde(flatten)]
    dates: FactDates,
    source: String,
    derivation: Option<String>,
    #[serde(default)]
    municipalities: Vec<String>,
    #[serde(default)]
    regions: Vec<String>,
    /// The cooperation this one is part of (a sub-region of a purchasing region).
    parent: Option<String>,
    /// Members (of `municipalities`) that take part in only some tasks, and which.
    #[serde(default)]
    partial_members: Vec<String>,
    partial_note: Option<String>,
}

#[derive(Deserialize)]
struct RoleFact {
    code: String,
    kind: String,
    holder_municipality: Option<String>,
    holder_region: Option<String>,
    holder_cooperation: Option<String>,
    cooperation: Option<String>,
    care_form: Option<String>,
    provider: Option<String>,
    #[serde(flatten)]
    dates: FactDates,
    source: String,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Parties {
    All(AllRegions),
    Listed(Vec<String>),
}

#[derive(Deserialize)]
enum AllRegions {
    #[serde(rename = "ALL_REGIONS")]
    AllRegions,
}

#[derive(Deserialize)]
struct ContractFact {
    code: String,
    title: String,
    scale: String,
    contracting_authority_name: Option<String>,
    care_forms: Vec<String>,
    parties: Parties,
    #[serde(flatten)]
    dates: FactDates,
    source: String,
    note: Option<String>,
    derivation: Option<String>,
}

pub(crate) fn invalid(what: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("national seed: {what}"))
}

pub(crate) fn read_csv<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>, DbErr> {
    csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<Vec<T>, _>>()
        .map_err(invalid)
}

pub(crate) fn parse_enum<E: ActiveEnum<Value = String>>(value: &str) -> Result<E, DbErr> {
    E::try_from_value(&value.to_owned()).map_err(|_| invalid(format!("unknown value {value}")))
}

/// Looks a code up in a code -> id map, failing loudly on a seed typo.
pub(crate) fn id_of(ids: &HashMap<String, i32>, code: &str) -> Result<i32, DbErr> {
    ids.get(code).copied().ok_or_else(|| invalid(format!("unknown code {code}")))
}

fn lookup(ids: &HashMap<String, i32>, code: &Option<String>) -> Result<Option<i32>, DbErr> {
    code.as_deref().map(|c| id_of(ids, c)).transpose()
}

struct Sources(HashMap<String, String>);

impl Sources {
    /// The stored source note: the document, then how the fact was derived.
    fn cite(&self, document: &str, extra: &[&Option<String>]) -> Result<String, DbErr> {
        let mut text = self.0.get(document).cloned().ok_or_else(|| invalid(format!("unknown document {document}")))?;
        for part in extra.iter().filter_map(|p| p.as_deref()) {
            text.push_str(". ");
            text.push_str(part);
        }
        Ok(text)
    }
}

pub(crate) async fn codes<E, C>(db: &C, code_column: E::Column) -> Result<HashMap<String, i32>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    use sea_orm_migration::sea_orm::{QuerySelect, sea_query::Expr};
    let rows: Vec<(String, i32)> =
        E::find().select_only().column(code_column).column_as(Expr::col("id"), "id").into_tuple().all(db).await?;
    Ok(rows.into_iter().collect())
}

/// Seeds an empty registry. Returns `false` (and writes nothing) when the
/// registry already holds regions, so a restart never seeds twice.
pub async fn seed(db: &DatabaseConnection) -> Result<bool, DbErr> {
    seed_before(db, None).await
}

/// [`seed`] with the CBS history as it stood before `cut` (see
/// [`cbs_files::ClassificationFiles::before`]): a registry of an earlier year,
/// for trying the yearly update (`import-cbs`) on.
pub async fn seed_before(db: &DatabaseConnection, cut: Option<NaiveDate>) -> Result<bool, DbErr> {
    // On SQLite the write lock is taken at BEGIN, so a seed that meets
    // another process's write waits for it (busy timeout) instead of failing
    // when its first write upgrades the read; PostgreSQL ignores the mode.
    let immediate = sea_orm_migration::sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm_migration::sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let txn = db.begin_with_options(immediate).await?;
    if region::Entity::find().count(&txn).await? > 0 {
        return Ok(false);
    }
    let facts: SourceDocuments = toml::from_str(SOURCE_DOCUMENTS_TOML).map_err(invalid)?;
    let sources = Sources(facts.documents);

    let history = match cut {
        Some(date) => bundled_history()?.before(date),
        None => bundled_history()?,
    };
    let classification::Classification { regions: region_ids, municipalities: municipality_ids, lifetimes } =
        classification::seed(&txn, &history, cut.is_some()).await?;

    let mut care_forms = Vec::new();
    for c in facts.care_forms {
        care_forms.push(care_form::ActiveModel {
            source: Set(sources.cite(&c.source, &[&c.derivation])?),
            code: Set(c.code),
            name: Set(c.name),
            name_en: Set(c.name_en),
            description: Set(None),
            version: Set(1),
            ..Default::default()
        });
    }
    care_form::Entity::insert_many(care_forms).exec(&txn).await?;
    let care_form_ids = codes::<care_form::Entity, _>(&txn, care_form::Column::Code).await?;

    let mut providers = Vec::new();
    for p in facts.providers {
        providers.push(provider::ActiveModel {
            source: Set(sources.cite(&p.source, &[&p.note])?),
            code: Set(p.code),
            name: Set(p.name),
            certified_institution: Set(p.certified_institution),
            website: Set(None),
            version: Set(1),
            ..Default::default()
        });
    }
    provider::Entity::insert_many(providers).exec(&txn).await?;
    let provider_ids = codes::<provider::Entity, _>(&txn, provider::Column::Code).await?;

    for c in &facts.cooperations {
        cooperation::Entity::insert(cooperation::ActiveModel {
            code: Set(c.code.clone()),
            name: Set(c.name.clone()),
            scale: Set(parse_enum::<Scale>(&c.scale)?),
            instrument: Set(c.instrument.as_deref().map(parse_enum::<Instrument>).transpose()?),
            description: Set(c.description.clone()),
            valid_from: Set(Some(c.dates.valid_from)),
            valid_from_is_lower_bound: Set(c.dates.valid_from_is_lower_bound),
            valid_to: Set(c.dates.valid_to),
            source: Set(sources.cite(&c.source, &[&c.derivation])?),
            version: Set(1),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
    }
    let cooperation_ids = codes::<cooperation::Entity, _>(&txn, cooperation::Column::Code).await?;
    for c in &facts.cooperations {
        if let Some(parent) = &c.parent {
            cooperation::Entity::update_many()
                .col_expr(cooperation::Column::ParentCooperationId, id_of(&cooperation_ids, parent)?.into())
                .filter(cooperation::Column::Id.eq(id_of(&cooperation_ids, &c.code)?))
                .exec(&txn)
                .await?;
        }
        if let Some(code) = c.partial_members.iter().find(|code| !c.municipalities.contains(code)) {
            return Err(invalid(format!("{}: partial member {code} is not a member", c.code)));
        }
    }
    let mut members = Vec::new();
    for c in &facts.cooperations {
        let source = sources.cite(&c.source, &[&c.derivation])?;
        let cooperation_id = id_of(&cooperation_ids, &c.code)?;
        let member = |municipality_id, region_id, dates: FactDates, partial: bool| cooperation_member::ActiveModel {
            cooperation_id: Set(cooperation_id),
            municipality_id: Set(municipality_id),
            region_id: Set(region_id),
            participation: Set(if partial { Participation::Partial } else { Participation::Full }),
            participation_note: Set(if partial { c.partial_note.clone() } else { None }),
            valid_from: Set(Some(dates.valid_from)),
            valid_from_is_lower_bound: Set(dates.valid_from_is_lower_bound),
            valid_to: Set(dates.valid_to),
            source: Set(source.clone()),
            version: Set(1),
            ..Default::default()
        };
        for code in &c.municipalities {
            // A member takes part only while it exists: Beekdaelen (2019) is
            // not a member of a cooperation that began in 2015 before 2019.
            let lifetime = match lifetimes.get(code) {
                Some(lifetime) => *lifetime,
                // Cut short, the history may end before a member began.
                None if cut.is_some() => continue,
                None => return Err(invalid(format!("unknown code {code}"))),
            };
            if let Some(dates) = c.dates.within(lifetime) {
                let partial = c.partial_members.contains(code);
                members.push(member(Some(id_of(&municipality_ids, code)?), None, dates, partial));
            }
        }
        for code in &c.regions {
            members.push(member(None, Some(id_of(&region_ids, code)?), c.dates, false));
        }
    }
    cooperation_member::Entity::insert_many(members).exec(&txn).await?;

    let mut roles = Vec::new();
    for r in facts.roles {
        roles.push(role::ActiveModel {
            kind: Set(parse_enum::<RoleKind>(&r.kind)?),
            holder_municipality_id: Set(lookup(&municipality_ids, &r.holder_municipality)?),
            holder_region_id: Set(lookup(&region_ids, &r.holder_region)?),
            holder_cooperation_id: Set(lookup(&cooperation_ids, &r.holder_cooperation)?),
            region_id: Set(None),
            cooperation_id: Set(lookup(&cooperation_ids, &r.cooperation)?),
            care_form_id: Set(lookup(&care_form_ids, &r.care_form)?),
            provider_id: Set(lookup(&provider_ids, &r.provider)?),
            source: Set(sources.cite(&r.source, &[])?),
            note: Set(r.note),
            valid_from: Set(Some(r.dates.valid_from)),
            valid_from_is_lower_bound: Set(r.dates.valid_from_is_lower_bound),
            valid_to: Set(r.dates.valid_to),
            version: Set(1),
            code: Set(r.code),
            ..Default::default()
        });
    }
    role::Entity::insert_many(roles).exec(&txn).await?;

    for c in &facts.framework_contracts {
        framework_contract::Entity::insert(framework_contract::ActiveModel {
            code: Set(c.code.clone()),
            title: Set(c.title.clone()),
            scale: Set(parse_enum::<Scale>(&c.scale)?),
            contracting_authority_municipality_id: Set(None),
            contracting_authority_name: Set(c.contracting_authority_name.clone()),
            note: Set(c.note.clone()),
            valid_from: Set(Some(c.dates.valid_from)),
            valid_from_is_lower_bound: Set(c.dates.valid_from_is_lower_bound),
            valid_to: Set(c.dates.valid_to),
            source: Set(sources.cite(&c.source, &[&c.derivation])?),
            version: Set(1),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
    }
    let contract_ids = codes::<framework_contract::Entity, _>(&txn, framework_contract::Column::Code).await?;
    let (mut parties, mut contract_care_forms) = (Vec::new(), Vec::new());
    for c in &facts.framework_contracts {
        let contract_id = id_of(&contract_ids, &c.code)?;
        let party_ids: Vec<i32> = match &c.parties {
            Parties::All(AllRegions::AllRegions) => region_ids.values().copied().collect(),
            Parties::Listed(codes) => codes.iter().map(|code| id_of(&region_ids, code)).collect::<Result<_, _>>()?,
        };
        for region_id in party_ids {
            parties.push(contract_party::ActiveModel {
                contract_id: Set(contract_id),
                region_id: Set(region_id),
                ..Default::default()
            });
        }
        for code in &c.care_forms {
            contract_care_forms.push(contract_care_form::ActiveModel {
                contract_id: Set(contract_id),
                care_form_id: Set(id_of(&care_form_ids, code)?),
                ..Default::default()
            });
        }
    }
    contract_party::Entity::insert_many(parties).exec(&txn).await?;
    contract_care_form::Entity::insert_many(contract_care_forms).exec(&txn).await?;

    let ids = arrangements::Ids {
        regions: &region_ids,
        municipalities: &municipality_ids,
        cooperations: &cooperation_ids,
        care_forms: &care_form_ids,
        contracts: &contract_ids,
    };
    arrangements::seed(&txn, &sources, &ids).await?;

    txn.commit().await?;
    Ok(true)
}
