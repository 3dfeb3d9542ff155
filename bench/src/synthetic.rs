//! SYNTHETIC data for `portal-100x`: copies of the seeded regions with their
//! municipalities, memberships, cooperations and members, roles and framework
//! contracts, under new codes, written straight into the database while the
//! service is stopped.
//!
//! The CBS code forms (`JZ` and two digits, `GM` and four) have room for 100
//! regions and 10,000 municipalities, fewer than 100 copies need; the copies
//! therefore carry the original code with a `-S01`…`-S99` suffix. The database
//! accepts them (codes are strings of up to 64 characters); the API's code
//! checks would not, which does not matter for a read of the first pages.

use entity::{
    contract_care_form, contract_party, contract_provider, cooperation, cooperation_member, framework_contract,
    membership, municipality, region, role,
};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Database, DbBackend, EntityTrait, IntoActiveModel, TransactionTrait};

/// Rows written, for the report.
#[derive(Debug, Default)]
pub struct Written {
    pub regions: usize,
    pub municipalities: usize,
    pub rows: usize,
}

/// Adds `copies` copies of every region and what hangs from it.
pub async fn multiply(database_url: &str, copies: usize) -> anyhow::Result<Written> {
    let db = Database::connect(database_url).await?;
    let regions = region::Entity::find().all(&db).await?;
    let municipalities = municipality::Entity::find().all(&db).await?;
    let memberships = membership::Entity::find().all(&db).await?;
    let cooperations = cooperation::Entity::find().all(&db).await?;
    let members = cooperation_member::Entity::find().all(&db).await?;
    let roles = role::Entity::find().all(&db).await?;
    let contracts = framework_contract::Entity::find().all(&db).await?;
    let parties = contract_party::Entity::find().all(&db).await?;
    let care_forms = contract_care_form::Entity::find().all(&db).await?;
    let providers = contract_provider::Entity::find().all(&db).await?;

    // Copy k of a row with id i gets id i + k * (largest id): unique, and no
    // lookup of generated keys is needed to link the copies.
    let top = |ids: &mut dyn Iterator<Item = i32>| ids.max().unwrap_or(0);
    let region_top = top(&mut regions.iter().map(|r| r.id));
    let municipality_top = top(&mut municipalities.iter().map(|m| m.id));
    let membership_top = top(&mut memberships.iter().map(|m| m.id));
    let cooperation_top = top(&mut cooperations.iter().map(|c| c.id));
    let member_top = top(&mut members.iter().map(|m| m.id));
    let role_top = top(&mut roles.iter().map(|r| r.id));
    let contract_top = top(&mut contracts.iter().map(|c| c.id));
    let party_top = top(&mut parties.iter().map(|p| p.id));
    let care_form_top = top(&mut care_forms.iter().map(|c| c.id));
    let provider_top = top(&mut providers.iter().map(|p| p.id));

    let txn = db.begin().await?;
    let mut written = Written::default();
    for k in 1..=copies as i32 {
        let suffix = format!("-S{k:02}");
        let source = format!("SYNTHETIC benchmark data, copy {k} of the seed");
        let shift = |id: i32, top: i32| id + k * top;
        let region_id = |id: i32| shift(id, region_top);
        let municipality_id = |id: i32| shift(id, municipality_top);
        let cooperation_id = |id: i32| shift(id, cooperation_top);
        let contract_id = |id: i32| shift(id, contract_top);

        let copies = regions.iter().map(|r| {
            let mut r = r.clone();
            (r.id, r.code, r.name, r.source) =
                (region_id(r.id), r.code + &suffix, format!("{} (synthetic {k})", r.name), source.clone());
            r
        });
        written.regions += insert(&txn, copies.map(IntoActiveModel::into_active_model).collect()).await?;
        let copies = municipalities.iter().map(|m| {
            let mut m = m.clone();
            (m.id, m.code, m.name, m.source) =
                (municipality_id(m.id), m.code + &suffix, format!("{} (synthetic {k})", m.name), source.clone());
            m
        });
        written.municipalities += insert(&txn, copies.map(IntoActiveModel::into_active_model).collect()).await?;
        let copies = memberships.iter().map(|m| {
            let mut m = m.clone();
            (m.id, m.municipality_id, m.region_id, m.source) = (
                shift(m.id, membership_top),
                municipality_id(m.municipality_id),
                region_id(m.region_id),
                source.clone(),
            );
            m
        });
        written.rows += insert(&txn, copies.map(IntoActiveModel::into_active_model).collect()).await?;
        let copies = cooperations.iter().map(|c| {
            let mut c = c.clone();
            (c.id, c.code, c.name, c.source) =
                (cooperation_id(c.id), c.code + &suffix, format!("{} (synthetic {k})", c.name), source.clone());
            c
        });
        written.rows += insert(&txn, copies.map(IntoActiveModel::into_active_model).collect()).await?;
        let copies = members.iter().map(|m| {
            let mut m = m.clone();
            m.id = shift(m.id, member_top);
            m.cooperation_id = cooperation_id(m.cooperation_id);
            m.municipality_id = m.municipality_id.map(municipality_id);
            m.region_id = m.region_id.map(region_id);
            m.source = source.clone();
            m
        });
        written.rows += insert(&txn, copies.map(IntoActiveModel::into_active_model).collect()).await?;
        let copies = roles.iter().map(|r| {
            let mut r = r.clone();
            r.id = shift(r.id, role_top);
            r.code += &suffix;
            r.holder_municipality_id = r.holder_municipality_id.map(municipality_id);
            r.holder_region_id = r.holder_region_id.map(region_id);
            r.region_id = r.region_id.map(region_id);
            r.cooperation_id = r.cooperation_id.map(cooperation_id);
            r.source = source.clone();
            r
        });
        written.rows += insert(&txn, copies.map(IntoActiveModel::into_active_model).collect()).await?;
        let copies = contracts.iter().map(|c| {
            let mut c = c.clone();
            c.id = contract_id(c.id);
            c.code += &suffix;
            c.title = format!("{} (synthetic {k})", c.title);
            c.contracting_authority_municipality_id = c.contracting_authority_municipality_id.map(municipality_id);
            c.source = source.clone();
            c
        });
        written.rows += insert(&txn, copies.map(IntoActiveModel::into_active_model).collect()).await?;
        let copies = parties.iter().map(|p| contract_party::Model {
            id: shift(p.id, party_top),
            contract_id: contract_id(p.contract_id),
            region_id: region_id(p.region_id),
        });
        written.rows += insert(&txn, copies.map(IntoActiveModel::into_active_model).collect()).await?;
        let copies = care_forms.iter().map(|c| contract_care_form::Model {
            id: shift(c.id, care_form_top),
            contract_id: contract_id(c.contract_id),
            care_form_id: c.care_form_id,
        });
        written.rows += insert(&txn, copies.map(IntoActiveModel::into_active_model).collect()).await?;
        let copies = providers.iter().map(|p| contract_provider::Model {
            id: shift(p.id, provider_top),
            contract_id: contract_id(p.contract_id),
            provider_id: p.provider_id,
        });
        written.rows += insert(&txn, copies.map(IntoActiveModel::into_active_model).collect()).await?;
    }
    if txn.get_database_backend() == DbBackend::Postgres {
        // Explicit ids leave PostgreSQL's sequences behind; the service's own
        // inserts after this must not collide with the copies.
        for table in [
            "region",
            "municipality",
            "membership",
            "cooperation",
            "cooperation_member",
            "role",
            "framework_contract",
            "contract_party",
            "contract_care_form",
            "contract_provider",
        ] {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .await?;
        }
    }
    txn.commit().await?;
    written.rows += written.regions + written.municipalities;
    db.close().await?;
    Ok(written)
}

/// Inserts in chunks small enough for either database's limit on bound parameters.
async fn insert<A, C>(db: &C, models: Vec<A>) -> anyhow::Result<usize>
where
    A: ActiveModelTrait + Clone + Send,
    C: ConnectionTrait,
{
    let count = models.len();
    for chunk in models.chunks(200) {
        // Every field is written, the id too: from_model leaves them Unchanged.
        let chunk: Vec<A> = chunk.iter().cloned().map(ActiveModelTrait::reset_all).collect();
        A::Entity::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(count)
}
