//! What the change feed's `state` and the audit log's `changes` publish: each
//! object in the API's terms — the schema's field names, codes for related
//! objects — and never stored column names or surrogate ids.

use chrono::NaiveDate;
use entity::*;
use sea_orm::{
    ActiveEnum, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::Value;

use super::record::Coded;
use super::write::Published;
use super::{today, valid_on};

mod catalogue;

/// Keys the journal reads in every view.
pub const VERSION: &str = "version";
pub const VALID_TO: &str = "validTo";

pub(super) fn to_value(view: impl Serialize) -> Result<Value, DbErr> {
    serde_json::to_value(view).map_err(|e| DbErr::Custom(e.to_string()))
}

/// Sorted codes of the rows of `M` with these ids.
pub(super) async fn codes<M: Coded>(
    txn: &DatabaseTransaction,
    ids: impl IntoIterator<Item = i32>,
) -> Result<Vec<String>, DbErr> {
    let ids: Vec<i32> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    M::Entity::find()
        .select_only()
        .column(M::CODE)
        .filter(M::ID.is_in(ids))
        .order_by_asc(M::CODE)
        .into_tuple()
        .all(txn)
        .await
}

/// The codes a view lists under `key`.
pub(super) fn codes_in(view: &Value, key: &str) -> Result<Vec<String>, DbErr> {
    serde_json::from_value(view[key].clone()).map_err(|e| DbErr::Custom(format!("the view's {key}: {e}")))
}

pub(super) async fn code<M: Coded>(txn: &DatabaseTransaction, id: Option<i32>) -> Result<Option<String>, DbErr> {
    Ok(codes::<M>(txn, id).await?.pop())
}

/// Ids of the regions the municipalities are in today.
async fn regions_today(txn: &DatabaseTransaction, municipality_ids: Vec<i32>) -> Result<Vec<i32>, DbErr> {
    membership::Entity::find()
        .select_only()
        .column(membership::Column::RegionId)
        .filter(membership::Column::MunicipalityId.is_in(municipality_ids))
        .filter(valid_on(membership::Column::ValidFrom, membership::Column::ValidTo, today()))
        .into_tuple()
        .all(txn)
        .await
}

/// Regions a cooperation concerns: member regions, and the regions its member municipalities are in.
async fn cooperation_region_ids(txn: &DatabaseTransaction, cooperation_id: i32) -> Result<Vec<i32>, DbErr> {
    let members: Vec<(Option<i32>, Option<i32>)> = cooperation_member::Entity::find()
        .select_only()
        .columns([cooperation_member::Column::MunicipalityId, cooperation_member::Column::RegionId])
        .filter(cooperation_member::Column::CooperationId.eq(cooperation_id))
        .into_tuple()
        .all(txn)
        .await?;
    let mut ids: Vec<i32> = members.iter().filter_map(|m| m.1).collect();
    ids.extend(regions_today(txn, members.iter().filter_map(|m| m.0).collect()).await?);
    Ok(ids)
}

/// Ids linked to `owner` through a link table: `SELECT target FROM link WHERE owner_column = owner`.
pub(super) async fn linked<L: EntityTrait>(
    txn: &DatabaseTransaction,
    target: L::Column,
    owner_column: L::Column,
    owner: i32,
) -> Result<Vec<i32>, DbErr> {
    L::find().select_only().column(target).filter(owner_column.eq(owner)).into_tuple().all(txn).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccessPointView<'a> {
    name: &'a Option<String>,
    phone: &'a Option<String>,
    email: &'a Option<String>,
    website: &'a Option<String>,
    address: &'a Option<String>,
}

/// A period of region membership.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RegionMembershipView {
    region: String,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MunicipalityView<'a> {
    code: &'a str,
    name: &'a str,
    province: Option<String>,
    website: &'a Option<String>,
    access_point: Option<AccessPointView<'a>>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    /// Every recorded region membership, oldest first.
    regions: Vec<RegionMembershipView>,
    source: &'a str,
    version: i32,
}

#[async_trait::async_trait]
impl Published for municipality::Model {
    async fn view(&self, txn: &DatabaseTransaction) -> Result<Value, DbErr> {
        let province = match self.province_id {
            Some(id) => province::Entity::find_by_id(id).one(txn).await?.map(|p| p.code),
            None => None,
        };
        let in_region = membership::Entity::belongs_to(region::Entity)
            .from(membership::Column::RegionId)
            .to(region::Column::Id)
            .into();
        let periods: Vec<(String, Option<NaiveDate>, Option<NaiveDate>)> = membership::Entity::find()
            .select_only()
            .column(region::Column::Code)
            .columns([membership::Column::ValidFrom, membership::Column::ValidTo])
            .join(JoinType::InnerJoin, in_region)
            .filter(membership::Column::MunicipalityId.eq(self.id))
            .order_by_asc(membership::Column::ValidFrom)
            .into_tuple()
            .all(txn)
            .await?;
        let regions = periods
            .into_iter()
            .map(|(region, valid_from, valid_to)| RegionMembershipView { region, valid_from, valid_to })
            .collect();
        let access =
            [&self.access_name, &self.access_phone, &self.access_email, &self.access_website, &self.access_address];
        to_value(MunicipalityView {
            code: &self.code,
            name: &self.name,
            province,
            website: &self.website,
            access_point: access.iter().any(|f| f.is_some()).then_some(AccessPointView {
                name: &self.access_name,
                phone: &self.access_phone,
                email: &self.access_email,
                website: &self.access_website,
                address: &self.access_address,
            }),
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            regions,
            source: &self.source,
            version: self.version,
        })
    }

    /// The region it is in now, or the last one it had (after a merger it
    /// has none now): the last of the view's periods, which are in order of
    /// their start.
    async fn regions(&self, view: &Value, _txn: &DatabaseTransaction) -> Result<Vec<String>, DbErr> {
        let last = view["regions"].as_array().and_then(|periods| periods.last());
        Ok(last.and_then(|period| period["region"].as_str()).map(str::to_owned).into_iter().collect())
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CooperationView<'a> {
    code: &'a str,
    name: &'a str,
    scale: String,
    instrument: Option<String>,
    description: &'a Option<String>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    /// Members whose membership has no end recorded.
    member_municipalities: Vec<String>,
    member_regions: Vec<String>,
    source: &'a str,
    version: i32,
}

#[async_trait::async_trait]
impl Published for cooperation::Model {
    async fn view(&self, txn: &DatabaseTransaction) -> Result<Value, DbErr> {
        use cooperation_member::Column;
        let members: Vec<(Option<i32>, Option<i32>)> = cooperation_member::Entity::find()
            .select_only()
            .columns([Column::MunicipalityId, Column::RegionId])
            .filter(Column::CooperationId.eq(self.id))
            .filter(Column::ValidTo.is_null())
            .into_tuple()
            .all(txn)
            .await?;
        to_value(CooperationView {
            code: &self.code,
            name: &self.name,
            scale: self.scale.to_value(),
            instrument: self.instrument.map(|i| i.to_value()),
            description: &self.description,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            member_municipalities: codes::<municipality::Model>(txn, members.iter().filter_map(|m| m.0)).await?,
            member_regions: codes::<region::Model>(txn, members.iter().filter_map(|m| m.1)).await?,
            source: &self.source,
            version: self.version,
        })
    }

    async fn regions(&self, _view: &Value, txn: &DatabaseTransaction) -> Result<Vec<String>, DbErr> {
        codes::<region::Model>(txn, cooperation_region_ids(txn, self.id).await?).await
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RoleView<'a> {
    code: &'a str,
    kind: String,
    /// A municipality, region or cooperation code.
    holder: Option<String>,
    region: Option<String>,
    cooperation: Option<String>,
    care_form: Option<String>,
    provider: Option<String>,
    note: &'a Option<String>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    source: &'a str,
    version: i32,
}

#[async_trait::async_trait]
impl Published for role::Model {
    async fn view(&self, txn: &DatabaseTransaction) -> Result<Value, DbErr> {
        let holder = match (self.holder_municipality_id, self.holder_region_id) {
            (Some(id), _) => code::<municipality::Model>(txn, Some(id)).await?,
            (None, Some(id)) => code::<region::Model>(txn, Some(id)).await?,
            (None, None) => code::<cooperation::Model>(txn, self.holder_cooperation_id).await?,
        };
        to_value(RoleView {
            code: &self.code,
            kind: self.kind.to_value(),
            holder,
            region: code::<region::Model>(txn, self.region_id).await?,
            cooperation: code::<cooperation::Model>(txn, self.cooperation_id).await?,
            care_form: code::<care_form::Model>(txn, self.care_form_id).await?,
            provider: code::<provider::Model>(txn, self.provider_id).await?,
            note: &self.note,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            source: &self.source,
            version: self.version,
        })
    }

    /// The region it is for or held by, its cooperation's regions, and the holder's region today.
    async fn regions(&self, _view: &Value, txn: &DatabaseTransaction) -> Result<Vec<String>, DbErr> {
        let mut ids: Vec<i32> = self.region_id.into_iter().chain(self.holder_region_id).collect();
        if let Some(cooperation_id) = self.cooperation_id {
            ids.extend(cooperation_region_ids(txn, cooperation_id).await?);
        }
        ids.extend(regions_today(txn, self.holder_municipality_id.into_iter().collect()).await?);
        codes::<region::Model>(txn, ids).await
    }
}
