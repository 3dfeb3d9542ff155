//! The filter arguments of the list queries. Each converts to the registry's
//! own filter beside its definition, so the registry never sees GraphQL types.

use async_graphql::InputObject;
use chrono::{DateTime, Utc};

use super::scalars::Date;
use super::types::{RoleKind, Scale};
use crate::registry;

/// Filter for `regions`.
#[derive(InputObject, Default)]
pub struct RegionFilter {
    /// Case-insensitive part of the name.
    pub name_contains: Option<String>,
}

impl From<RegionFilter> for registry::RegionFilter {
    fn from(f: RegionFilter) -> Self {
        Self { name_contains: f.name_contains }
    }
}

/// Filter for `municipalities`.
#[derive(InputObject, Default)]
pub struct MunicipalityFilter {
    /// Only members of this region (`JZ39`) on `asOf`.
    pub region_code: Option<String>,
    /// Only municipalities in this province (`PV30`).
    pub province_code: Option<String>,
    /// Case-insensitive part of the name.
    pub name_contains: Option<String>,
}

impl From<MunicipalityFilter> for registry::MunicipalityFilter {
    fn from(f: MunicipalityFilter) -> Self {
        Self { region_code: f.region_code, province_code: f.province_code, name_contains: f.name_contains }
    }
}

/// Filter for `cooperations`.
#[derive(InputObject, Default)]
pub struct CooperationFilter {
    pub scale: Option<Scale>,
    /// Only cooperations the region takes part in (as member or through its municipalities).
    pub region_code: Option<String>,
    /// Only cooperations the municipality takes part in (directly or through its region).
    pub municipality_code: Option<String>,
    /// Case-insensitive part of the name.
    pub name_contains: Option<String>,
}

impl From<CooperationFilter> for registry::CooperationFilter {
    fn from(f: CooperationFilter) -> Self {
        Self {
            scale: f.scale.map(Into::into),
            region_code: f.region_code,
            municipality_code: f.municipality_code,
            name_contains: f.name_contains,
        }
    }
}

/// Filter for `roles`.
#[derive(InputObject, Default)]
pub struct RoleFilter {
    pub kind: Option<RoleKind>,
    /// Code of the holder: a municipality (`GM0772`), a region (`JZ39`) or a cooperation (`21-VOOR-DE-JEUGD`).
    pub holder_code: Option<String>,
    /// Roles that concern this region: held by it, for it, or for one of its cooperations.
    pub region_code: Option<String>,
    pub cooperation_code: Option<String>,
    pub care_form_code: Option<String>,
    pub provider_code: Option<String>,
}

impl From<RoleFilter> for registry::RoleFilter {
    fn from(f: RoleFilter) -> Self {
        Self {
            kind: f.kind.map(Into::into),
            holder_code: f.holder_code,
            region_code: f.region_code,
            cooperation_code: f.cooperation_code,
            care_form_code: f.care_form_code,
            provider_code: f.provider_code,
        }
    }
}

/// Filter for `frameworkContracts`.
#[derive(InputObject, Default)]
pub struct FrameworkContractFilter {
    pub scale: Option<Scale>,
    /// Only contracts that cover this care form.
    pub care_form_code: Option<String>,
    /// Only contracts this region is a party to.
    pub party_region_code: Option<String>,
    /// Only contracts whose term includes this date.
    pub active_on: Option<Date>,
}

impl From<FrameworkContractFilter> for registry::ContractFilter {
    fn from(f: FrameworkContractFilter) -> Self {
        Self {
            scale: f.scale.map(Into::into),
            care_form_code: f.care_form_code,
            party_region_code: f.party_region_code,
            active_on: f.active_on.map(Into::into),
        }
    }
}

/// Filter for `providers`.
#[derive(InputObject, Default)]
pub struct ProviderFilter {
    /// Case-insensitive part of the name.
    pub name_contains: Option<String>,
}

impl From<ProviderFilter> for registry::ProviderFilter {
    fn from(f: ProviderFilter) -> Self {
        Self { name_contains: f.name_contains }
    }
}

/// Filter for `auditLog`.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Only records about the object with this code.
    pub object_code: Option<String>,
    /// Only records of this organisation: a municipality code or `OPERATOR`.
    pub actor: Option<String>,
    /// Only records from this moment on.
    pub from: Option<DateTime<Utc>>,
    /// Only records before this moment.
    pub to: Option<DateTime<Utc>>,
}

impl From<AuditLogFilter> for registry::AuditFilter {
    fn from(f: AuditLogFilter) -> Self {
        Self { object_code: f.object_code, actor: f.actor, from: f.from, to: f.to }
    }
}
