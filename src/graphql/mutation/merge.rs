//! A municipal merger (herindeling): `municipalityMerge`.

use async_graphql::{Context, InputObject, Object, Result};

use super::Attempt;
use super::municipality::MunicipalityPayload;
use crate::graphql::context::registry;
use crate::graphql::scalars::Date;
use crate::registry::{self, today};

/// A merger (herindeling): municipalities end on `date` and a successor takes
/// over their region and cooperation memberships and roles from that date (operator only).
#[derive(InputObject)]
pub struct MunicipalityMergeInput {
    pub municipality_codes: Vec<String>,
    /// An existing municipality, or a new CBS code (then `successorName` and `provinceCode` are required).
    pub successor_code: String,
    pub successor_name: Option<String>,
    pub province_code: Option<String>,
    /// The successor's region; by default the region of the merging municipalities.
    pub region_code: Option<String>,
    pub date: Date,
    pub client_mutation_id: Option<String>,
}

impl From<MunicipalityMergeInput> for registry::MunicipalityMerge {
    fn from(input: MunicipalityMergeInput) -> Self {
        Self {
            municipality_codes: input.municipality_codes,
            successor_code: input.successor_code,
            successor_name: input.successor_name,
            province_code: input.province_code,
            region_code: input.region_code,
            date: input.date.0,
        }
    }
}

#[derive(Default)]
pub struct MergeMutation;

#[Object(serial)]
impl MergeMutation {
    /// A municipal merger (herindeling), in one transaction (operator only). Returns the successor.
    async fn municipality_merge(
        &self,
        ctx: &Context<'_>,
        input: MunicipalityMergeInput,
    ) -> Result<MunicipalityPayload> {
        let (attempt, date) = (Attempt::new(ctx, "municipalityMerge", &input.client_mutation_id), input.date.0);
        let result = registry(ctx).municipality_merge(&attempt.intent(), &input.into()).await;
        // A new successor exists only from the merger date, so a future merger is answered as of that date.
        Ok(attempt.outcome(result, date.max(today()))?.into())
    }
}
