//! API tests: the real route table over a real seeded store (one per test).

mod helpers;

mod actors;
mod coverage;
mod errors;
mod http;
mod openapi;
mod seed;
mod territories;
