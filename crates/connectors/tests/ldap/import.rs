//! Full import: paging past the server's size limit (C-15), binary attributes, and the
//! failures that must never end complete (C-16).

use crate::harness::{
    ADMIN, READER, READER_PW, ROOT_PW, SUFFIX, Slapd, import_all, open, person_config,
};
use identitymesh_connectors::{ImportMode, ImportRecord};
use identitymesh_domain::Value;
use std::collections::BTreeSet;

fn people_ldif(n: usize) -> String {
    let mut ldif = String::new();
    for i in 0..n {
        ldif.push_str(&format!(
            "dn: uid=u{i:05},ou=People,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: u{i:05}\ncn: User {i}\nsn: User\nmail: u{i:05}@example.test\n\n"
        ));
    }
    // One entry with a binary photo (not UTF-8) and two descriptions.
    ldif.push_str(&format!(
        "dn: uid=photo,ou=People,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: photo\ncn: Photo\nsn: P\njpegPhoto:: /9j/4AAQ//8A\ndescription: one\ndescription: two\n\n"
    ));
    ldif
}

#[tokio::test]
async fn c15_paged_import_reads_every_entry_past_the_size_limit() {
    let Some(slapd) = Slapd::start(&[]) else {
        return;
    };
    let (added, _) = slapd.ldapadd(ADMIN, &people_ldif(2_499), false);
    assert_eq!(added, 2_500);
    let base = format!("ou=People,{SUFFIX}");

    let mut paged = open(
        &person_config(&slapd.url(), READER, &base, "page_size = 300"),
        READER_PW,
    );
    let (records, end) = import_all(paged.as_mut(), 128).await;
    assert!(end.complete && !end.failed, "{end:?}");
    let anchors: BTreeSet<String> = records
        .iter()
        .map(|r| match r {
            ImportRecord::Upsert(o) => o.anchor.to_string(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(anchors.len(), 2_500, "every entry once, by its entryUUID");

    let photo = records
        .iter()
        .find_map(|r| match r {
            ImportRecord::Upsert(o)
                if o.attributes.first_text("uid").as_deref() == Some("photo") =>
            {
                Some(o)
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(
        photo.name.as_deref(),
        Some("uid=photo,ou=People,dc=example,dc=test")
    );
    assert_eq!(
        photo.attributes.get("jpegPhoto").unwrap(),
        [Value::Bytes(vec![
            0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xff, 0xff, 0x00
        ])]
    );
    let descriptions: BTreeSet<_> = photo
        .attributes
        .get("description")
        .unwrap()
        .iter()
        .cloned()
        .collect();
    assert_eq!(
        descriptions,
        BTreeSet::from([Value::str("one"), Value::str("two")])
    );
    assert_eq!(photo.anchor.as_str().len(), 36, "entryUUID text form");

    // Without the paged-results control the server stops at 1000: partial, with the code.
    let mut unpaged = open(
        &person_config(&slapd.url(), READER, &base, "page_size = 0"),
        READER_PW,
    );
    let (records, end) = import_all(unpaged.as_mut(), 500).await;
    assert_eq!(records.len(), 1_000);
    assert!(!end.complete && !end.failed, "{end:?}");
    let reason = end.reason.unwrap();
    assert!(
        reason.contains("resultCode 4 (sizeLimitExceeded)") && reason.contains(&slapd.url()),
        "{reason}"
    );
}

#[tokio::test]
async fn c16_a_wrong_password_fails_with_code_49_and_nothing_complete() {
    let Some(slapd) = Slapd::start(&[]) else {
        return;
    };
    let mut connector = open(
        &person_config(&slapd.url(), READER, SUFFIX, ""),
        "Wrong-Pw-9",
    );
    let err = connector
        .import(ImportMode::Full)
        .await
        .err()
        .expect("a bind failure fails the import")
        .to_string();
    assert!(err.contains("resultCode 49 (invalidCredentials)"), "{err}");
    assert!(err.contains(&slapd.url()) && err.contains(READER), "{err}");
    assert!(
        !err.contains("Wrong-Pw-9") && !err.contains(ROOT_PW),
        "{err}"
    );
}

#[tokio::test]
async fn c16_an_unreachable_server_fails_before_and_during_the_read() {
    let Some(slapd) = Slapd::start(&[]) else {
        return;
    };
    slapd.ldapadd(ADMIN, &people_ldif(599), false);
    let toml = person_config(&slapd.url(), ADMIN, SUFFIX, "page_size = 100");

    // Stopped mid-read: the stream ends failed, never complete.
    let mut connector = open(&toml, ROOT_PW);
    let mut stream = connector.import(ImportMode::Full).await.unwrap();
    let first = stream.next_batch(100).await.unwrap();
    assert_eq!(first.len(), 100);
    slapd.stop();
    let mut more = 0;
    loop {
        let batch = stream.next_batch(100).await.unwrap();
        if batch.is_empty() {
            break;
        }
        more += batch.len();
    }
    assert!(more < 500, "the rest was not read");
    let end = stream.finish();
    assert!(!end.complete && end.failed, "{end:?}");
    assert!(
        end.reason.as_deref().unwrap().contains(&slapd.url()),
        "{end:?}"
    );

    // Stopped before: connection refused, named.
    let mut connector = open(&toml, ROOT_PW);
    let err = connector
        .import(ImportMode::Full)
        .await
        .err()
        .expect("unreachable")
        .to_string();
    assert!(
        err.contains("cannot reach") && err.contains(&slapd.url()),
        "{err}"
    );
}
