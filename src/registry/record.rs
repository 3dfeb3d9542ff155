//! What every registry table has in common, as traits, so the write pipeline
//! and the reads are written once instead of once per table.

use chrono::NaiveDate;
use entity::*;
use sea_orm::{Condition, EntityTrait, IntoActiveModel};

use super::ObjectType;

/// A row with a surrogate id and an optimistic-concurrency version.
pub trait Versioned: sea_orm::FromQueryResult + Clone + Send + Sync + Sized + 'static {
    type Entity: EntityTrait<Model = Self>;
    const ID: <Self::Entity as EntityTrait>::Column;
    const VERSION: <Self::Entity as EntityTrait>::Column;
    fn id(&self) -> i32;
    fn version(&self) -> i32;
    fn set_version(&mut self, version: i32);
    fn into_active(self) -> <Self::Entity as EntityTrait>::ActiveModel;
}

/// A published object: it has a public code and a type name.
pub trait Coded: Versioned {
    const TYPE: ObjectType;
    const CODE: <Self::Entity as EntityTrait>::Column;
    /// How messages name the kind of object ("no care form with code …").
    const WHAT: &'static str;
    fn code(&self) -> &str;
    /// Rows valid on `date`; everything, for objects without a validity period.
    fn valid_on(date: NaiveDate) -> Condition;
}

/// A row with a validity period.
pub trait Dated {
    fn valid_from(&self) -> Option<NaiveDate>;
    fn valid_to(&self) -> Option<NaiveDate>;
}

macro_rules! versioned {
    ($($module:ident),*) => {$(
        impl Versioned for $module::Model {
            type Entity = $module::Entity;
            const ID: $module::Column = $module::Column::Id;
            const VERSION: $module::Column = $module::Column::Version;
            fn id(&self) -> i32 { self.id }
            fn version(&self) -> i32 { self.version }
            fn set_version(&mut self, version: i32) { self.version = version; }
            fn into_active(self) -> $module::ActiveModel { self.into_active_model() }
        }
    )*};
}

macro_rules! coded {
    ($($module:ident => $type:ident, $what:literal, $dated:ident);* $(;)?) => {$(
        impl Coded for $module::Model {
            const TYPE: ObjectType = ObjectType::$type;
            const CODE: $module::Column = $module::Column::Code;
            const WHAT: &'static str = $what;
            fn code(&self) -> &str { &self.code }
            fn valid_on(date: NaiveDate) -> Condition {
                coded!(@valid $dated $module date)
            }
        }
    )*};
    (@valid dated $module:ident $date:ident) => {
        super::valid_on($module::Column::ValidFrom, $module::Column::ValidTo, $date)
    };
    (@valid always $module:ident $date:ident) => {{
        let _ = $date;
        Condition::all()
    }};
}

macro_rules! dated {
    ($($module:ident),*) => {$(
        impl Dated for $module::Model {
            fn valid_from(&self) -> Option<NaiveDate> { self.valid_from }
            fn valid_to(&self) -> Option<NaiveDate> { self.valid_to }
        }
    )*};
}

versioned!(
    region,
    municipality,
    membership,
    cooperation,
    cooperation_member,
    care_form,
    provider,
    role,
    framework_contract
);
coded!(
    region => Region, "region", dated;
    municipality => Municipality, "municipality", dated;
    cooperation => Cooperation, "cooperation", dated;
    care_form => CareForm, "care form", always;
    provider => Provider, "provider", always;
    role => Role, "role", dated;
    framework_contract => FrameworkContract, "framework contract", dated;
);
dated!(region, municipality, membership, cooperation, cooperation_member, role, framework_contract, care_arrangement);
