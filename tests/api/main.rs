//! The integration tests, in one binary so that the seeded template database
//! (see `helpers/database.rs`) is built once per run: every test talks HTTP to a real
//! service on a copy of it, SQLite by default, PostgreSQL when
//! `JEUGDREGIO_TEST_DATABASE_URL` names a server.

mod arrangements;
mod auth;
mod cli;
mod export;
mod fuzz;
mod helpers;
mod history;
mod import;
mod limits;
mod observability;
mod operations;
mod outage;
mod read;
mod readme;
mod schema;
mod security;
mod shutdown;
mod site;
mod startup;
mod stored_input;
mod sync;
mod upgrade;
mod writes;
