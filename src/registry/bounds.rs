//! The most items each relation of one object can hold. The cost of a query
//! is computed from these before it runs (see `graphql/cost.rs` and
//! `docs/limits.md`), so the writes that could grow a relation refuse to go
//! beyond them (`write/room.rs`, also for the derived lists: a region's
//! cooperations and roles include its municipalities' and cooperations'): a
//! bound that the data can exceed would make the estimate a lie. Each is the largest count in the national data with room to spare
//! (2025: at most 21 municipalities per region, 6 regions and 21
//! municipalities per cooperation, 18 care forms in all).

/// Different codes one list of a mutation's input may name: more than any
/// relation holds, and few enough to look up in one SQL statement (SQLite
/// binds at most 32,766 values, PostgreSQL 65,535).
pub const CODES_PER_LIST: usize = 500;
/// Member municipalities of a region on one date.
pub const MUNICIPALITIES_PER_REGION: usize = 40;
/// Member municipalities of a cooperation on one date (enforced by `cooperationCreate`/`MembersSet`).
pub const MUNICIPALITIES_PER_COOPERATION: usize = 100;
/// There are 42 regions and 12 provinces.
pub const REGIONS: usize = 42;
/// Care forms in the catalogue (enforced by `careFormCreate`).
pub const CARE_FORMS: usize = 50;
/// Providers named by one framework contract (enforced by contract writes).
pub const PROVIDERS_PER_CONTRACT: usize = 50;
/// Cooperations one region or municipality takes part in, directly or through
/// its members or its region.
pub const COOPERATIONS_PER_MEMBER: usize = 30;
/// Roles concerning one object (region, municipality, cooperation, care form,
/// provider); a region's include those of its cooperations.
pub const ROLES_PER_OBJECT: usize = 100;
/// Framework contracts of one region or care form.
pub const CONTRACTS_PER_OBJECT: usize = 50;
/// The twelve provinces.
pub const PROVINCES: usize = 12;
/// Periods in one object's history: names of a municipality or region, and a
/// municipality's region memberships (2015-2025: at most 3; one more per change).
pub const PERIODS_PER_OBJECT: usize = 50;
/// Lineage links of one municipality, either way (2015-2025: at most 5
/// predecessors, Hoeksche Waard; at most 4 successors, Haaren).
pub const LINEAGE_PER_MUNICIPALITY: usize = 20;
/// Care-form arrangements of one region (recorded for it or for one of its
/// cooperations), one cooperation or one care form, on one date (with the
/// seed: 54 for Zuidoost-Brabant, 21 for Samen voor Jeugd, at most 4 for one
/// care form). There are no mutations for arrangements: only the seed adds
/// them, so no request can take a list past this bound, and a test checks
/// that the seed stays within it. A seed with arrangements for many more
/// regions must raise it (a care form's list spans every region).
pub const ARRANGEMENTS_PER_OBJECT: usize = 100;
