//! API tests: the real route table over a real seeded store (one per test).

#[macro_use]
mod helpers;
#[path = "../support/postgres.rs"]
mod postgres;

mod actors;
mod admin;
mod assets;
mod basemap;
mod contributions;
mod coverage;
mod embed;
mod errors;
mod export;
mod http;
mod map;
mod openapi;
mod outline_tiles;
mod seed;
mod territories;
mod tiles;
