//! The national catalogue the operator keeps: providers and care forms.

use entity::{care_form, provider};
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait};
use serde::Serialize;

use super::txn::WriteTxn;
use super::{Command, Patch, apply_patch};
use crate::codes::RegistryCode;
use crate::registry::bounds::CARE_FORMS;
use crate::registry::error::WriteError;
use crate::registry::policy::Target;
use crate::registry::validate::{Checks, MAX_NAME, MAX_TEXT};

#[derive(Debug, Clone, Serialize)]
pub struct ProviderCreate {
    pub code: String,
    pub name: String,
    pub certified_institution: Option<bool>,
    pub website: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderUpdate {
    pub code: String,
    pub expected_version: i32,
    pub name: Option<String>,
    pub certified_institution: Patch<bool>,
    pub website: Patch<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CareFormCreate {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CareFormUpdate {
    pub code: String,
    pub expected_version: i32,
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub description: Patch<String>,
}

#[async_trait::async_trait]
impl Command for ProviderCreate {
    type Object = provider::Model;
    type Loaded = ();

    async fn load(&self, _: &WriteTxn) -> Result<(), WriteError> {
        Ok(())
    }

    fn target(&self, _: &()) -> Target {
        Target::OperatorOnly
    }

    fn validate(&self, _: &(), checks: &mut Checks) {
        checks.code::<RegistryCode>(&["code"], &self.code);
        checks.text(&["name"], &self.name, MAX_NAME);
        if let Some(website) = &self.website {
            checks.url(&["website"], website);
        }
    }

    async fn apply(&self, w: &WriteTxn, _: ()) -> Result<provider::Model, WriteError> {
        w.ensure_code_free::<provider::Model>(&self.code).await?;
        w.create(provider::ActiveModel {
            code: Set(self.code.clone()),
            name: Set(self.name.clone()),
            certified_institution: Set(self.certified_institution),
            website: Set(self.website.clone()),
            source: Set(w.source()),
            version: Set(1),
            ..Default::default()
        })
        .await
    }
}

#[async_trait::async_trait]
impl Command for ProviderUpdate {
    type Object = provider::Model;
    type Loaded = provider::Model;

    async fn load(&self, w: &WriteTxn) -> Result<provider::Model, WriteError> {
        w.require(&self.code, "code").await
    }

    fn target(&self, _: &provider::Model) -> Target {
        Target::OperatorOnly
    }

    fn validate(&self, _: &provider::Model, checks: &mut Checks) {
        checks.optional_text(&["name"], self.name.as_ref(), MAX_NAME);
        if let Some(Some(website)) = &self.website {
            checks.url(&["website"], website);
        }
    }

    fn versions(&self, before: &provider::Model) -> Option<(i32, i32)> {
        Some((self.expected_version, before.version))
    }

    async fn apply(&self, w: &WriteTxn, before: provider::Model) -> Result<provider::Model, WriteError> {
        let mut after = before.clone();
        if let Some(name) = &self.name {
            after.name = name.clone();
        }
        apply_patch(&self.certified_institution, &mut after.certified_institution);
        apply_patch(&self.website, &mut after.website);
        w.update(&before, after).await
    }
}

#[async_trait::async_trait]
impl Command for CareFormCreate {
    type Object = care_form::Model;
    type Loaded = ();

    async fn load(&self, _: &WriteTxn) -> Result<(), WriteError> {
        Ok(())
    }

    fn target(&self, _: &()) -> Target {
        Target::OperatorOnly
    }

    fn validate(&self, _: &(), checks: &mut Checks) {
        checks.code::<RegistryCode>(&["code"], &self.code);
        checks.text(&["name"], &self.name, MAX_NAME);
        checks.text(&["nameEn"], &self.name_en, MAX_NAME);
        checks.optional_free_text(&["description"], self.description.as_ref(), MAX_TEXT);
    }

    async fn apply(&self, w: &WriteTxn, _: ()) -> Result<care_form::Model, WriteError> {
        w.ensure_code_free::<care_form::Model>(&self.code).await?;
        // The query cost model relies on the bound.
        if care_form::Entity::find().count(&w.txn).await? as usize >= CARE_FORMS {
            return Err(WriteError::invalid(&["code"], format!("the catalogue holds at most {CARE_FORMS} care forms")));
        }
        w.create(care_form::ActiveModel {
            code: Set(self.code.clone()),
            name: Set(self.name.clone()),
            name_en: Set(self.name_en.clone()),
            description: Set(self.description.clone()),
            source: Set(w.source()),
            version: Set(1),
            ..Default::default()
        })
        .await
    }
}

#[async_trait::async_trait]
impl Command for CareFormUpdate {
    type Object = care_form::Model;
    type Loaded = care_form::Model;

    async fn load(&self, w: &WriteTxn) -> Result<care_form::Model, WriteError> {
        w.require(&self.code, "code").await
    }

    fn target(&self, _: &care_form::Model) -> Target {
        Target::OperatorOnly
    }

    fn validate(&self, _: &care_form::Model, checks: &mut Checks) {
        checks.optional_text(&["name"], self.name.as_ref(), MAX_NAME);
        checks.optional_text(&["nameEn"], self.name_en.as_ref(), MAX_NAME);
        checks.optional_free_text(&["description"], self.description.as_ref().and_then(Option::as_ref), MAX_TEXT);
    }

    fn versions(&self, before: &care_form::Model) -> Option<(i32, i32)> {
        Some((self.expected_version, before.version))
    }

    async fn apply(&self, w: &WriteTxn, before: care_form::Model) -> Result<care_form::Model, WriteError> {
        let mut after = before.clone();
        if let Some(name) = &self.name {
            after.name = name.clone();
        }
        if let Some(name_en) = &self.name_en {
            after.name_en = name_en.clone();
        }
        apply_patch(&self.description, &mut after.description);
        w.update(&before, after).await
    }
}
