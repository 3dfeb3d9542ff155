//! sea-orm entities of the jeugdregio registry: one module per table, no logic.
//!
//! Validity periods (`valid_from`, `valid_to`) are half-open: a row is valid on
//! date `d` when `valid_from <= d < valid_to`; a null bound is open. A null
//! `valid_from` means the source does not state when the fact started;
//! `valid_from_is_lower_bound` marks a start that is only the earliest date a
//! source vouches for.

pub mod audit_log;
pub mod care_arrangement;
pub mod care_form;
pub mod change_event;
pub mod contract_care_form;
pub mod contract_party;
pub mod contract_provider;
pub mod cooperation;
pub mod cooperation_member;
pub mod enums;
pub mod feed_head;
pub mod framework_contract;
pub mod landsdeel;
pub mod lineage;
pub mod membership;
pub mod municipality;
pub mod municipality_name;
pub mod mutation_receipt;
pub mod persisted_query;
pub mod provider;
pub mod province;
pub mod region;
pub mod region_name;
pub mod role;
