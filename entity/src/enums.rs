//! Closed vocabularies stored as short strings.

use sea_orm::entity::prelude::*;

/// The scale at which a cooperation or contract operates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Scale {
    #[sea_orm(string_value = "SUBREGIONAL")]
    Subregional,
    #[sea_orm(string_value = "REGIONAL")]
    Regional,
    #[sea_orm(string_value = "BIREGIONAL")]
    Biregional,
    #[sea_orm(string_value = "SUPRAREGIONAL")]
    Supraregional,
    #[sea_orm(string_value = "NATIONAL")]
    National,
}

/// The legal instrument a cooperation is founded on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Instrument {
    /// samenwerkingsovereenkomst
    #[sea_orm(string_value = "COOPERATION_AGREEMENT")]
    CooperationAgreement,
    /// dienstverleningsovereenkomst (e.g. DVO21)
    #[sea_orm(string_value = "SERVICE_AGREEMENT")]
    ServiceAgreement,
    /// gemeenschappelijke regeling
    #[sea_orm(string_value = "JOINT_ARRANGEMENT")]
    JointArrangement,
}

/// What a role holder does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum RoleKind {
    /// accounthoudende gemeente/regio
    #[sea_orm(string_value = "ACCOUNT_HOLDER")]
    AccountHolder,
    /// penvoerder
    #[sea_orm(string_value = "LEAD_MUNICIPALITY")]
    LeadMunicipality,
    /// inkooporganisatie
    #[sea_orm(string_value = "PURCHASING_ORGANISATION")]
    PurchasingOrganisation,
    /// contractmanagement
    #[sea_orm(string_value = "CONTRACT_MANAGER")]
    ContractManager,
    /// coördinerende gemeente
    #[sea_orm(string_value = "COORDINATING_MUNICIPALITY")]
    CoordinatingMunicipality,
}

/// How much of an ended municipality's territory went to a successor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum LineageKind {
    /// The successor: the municipality that received the largest share.
    #[sea_orm(string_value = "MAIN")]
    Main,
    /// A further part of at least 3 km² (a real split).
    #[sea_orm(string_value = "PART")]
    Part,
    /// A further part under 3 km²: at the size of the differences between
    /// generalised boundary files, so possibly an artefact; unverified.
    #[sea_orm(string_value = "MINOR")]
    Minor,
}

/// How much of a cooperation's work a member takes part in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Participation {
    #[sea_orm(string_value = "FULL")]
    Full,
    /// Only some tasks (e.g. Landgraaf, Heerlen and Voerendaal in Jeugdhulp Zuid-Limburg).
    #[sea_orm(string_value = "PARTIAL")]
    Partial,
}

/// Which part of the commissioning of a care form an arrangement is about
/// (Samen voor Jeugd regiovisie, annex B: beleid, inkoop, leveranciersmanagement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum ArrangementFunction {
    /// beleid
    #[sea_orm(string_value = "POLICY")]
    Policy,
    /// inkoop
    #[sea_orm(string_value = "PURCHASING")]
    Purchasing,
    /// leveranciersmanagement, contractmanagement
    #[sea_orm(string_value = "SUPPLIER_MANAGEMENT")]
    SupplierManagement,
}

/// The scale at which a care form's policy, purchasing or supplier management
/// is organised. Kept apart from `Scale` (of cooperations and contracts),
/// because an arrangement can also be local, and because its words are those
/// of the document that records it (see the GraphQL enum for each meaning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ArrangementScale {
    #[sea_orm(string_value = "LOCAL")]
    Local,
    #[sea_orm(string_value = "SUBREGIONAL")]
    Subregional,
    #[sea_orm(string_value = "REGIONAL")]
    Regional,
    #[sea_orm(string_value = "BIREGIONAL")]
    Biregional,
    #[sea_orm(string_value = "SUPRAREGIONAL")]
    Supraregional,
    #[sea_orm(string_value = "NATIONAL")]
    National,
}

/// Whether an arrangement is in place or, as its source says, still being developed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ArrangementStatus {
    #[sea_orm(string_value = "IN_PLACE")]
    InPlace,
    #[sea_orm(string_value = "IN_DEVELOPMENT")]
    InDevelopment,
}
