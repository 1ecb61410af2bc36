//! What the store's unit tests of both backends build their cases from.

use crate::domain::actor::ActorFields;
use crate::domain::{Family, GeocodePrecision, InseeCode, KindSet, LonLat, Status};
use crate::store::{ImportRun, MergeCounts, StoreOptions, UpsertRecord};
use std::time::Duration;

pub fn options() -> StoreOptions {
    StoreOptions {
        pool_size: 4,
        connect_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(30),
    }
}

pub fn actor(name: &str, source: &str, source_ref: Option<&str>) -> ActorFields {
    ActorFields {
        name: name.to_owned(),
        description: None,
        categories: vec!["ressourcerie".into()],
        family: Family::Association,
        kinds: KindSet::default(),
        siret: None,
        street: None,
        postcode: Some("44000".into()),
        commune: InseeCode::parse("commune", "44109").expect("code"),
        location: LonLat::new(-1.553_621_9, 47.218_371_6).expect("location"),
        precision: GeocodePrecision::Commune,
        website: None,
        email: None,
        phone: None,
        opening_hours: None,
        accessibility: None,
        source: source.to_owned(),
        source_ref: source_ref.map(str::to_owned),
        demo: false,
    }
}

pub fn record<'a>(fields: &'a ActorFields, hash: &'a str) -> UpsertRecord<'a> {
    UpsertRecord {
        fields,
        status: Status::Published,
        location_flag: None,
        hash,
    }
}

pub fn run() -> ImportRun<'static> {
    ImportRun {
        source: "test",
        format: "csv",
        input: "test.csv",
        read: 0,
        rejected: 0,
    }
}

pub fn counted(created: u64, updated: u64, unchanged: u64) -> MergeCounts {
    MergeCounts {
        created,
        updated,
        unchanged,
    }
}
