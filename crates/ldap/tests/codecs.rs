//! The DN and filter codecs: the exact strings of C-01 and C-03, comparison (C-05), the
//! structural helpers, and properties (round trip; a value never adds a filter clause).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use identitymesh_ldap::{Ava, AvaValue, Dn, Filter, Rdn};
use proptest::prelude::*;

fn people() -> Dn {
    Dn::parse("ou=People,dc=example,dc=test").unwrap()
}

#[test]
fn c01_values_are_escaped_once_from_structured_rdns() {
    let jdoe = people().child(Rdn::new("cn", "Doe, Jane").unwrap());
    assert_eq!(
        jdoe.to_string(),
        "cn=Doe\\, Jane,ou=People,dc=example,dc=test"
    );
    let rroe = people().child(Rdn::new("cn", "Roe ").unwrap());
    assert_eq!(rroe.to_string(), "cn=Roe\\ ,ou=People,dc=example,dc=test");
    assert_eq!(
        Dn::parse(&rroe.to_string())
            .unwrap()
            .rdn()
            .unwrap()
            .value_of("cn"),
        Some("Roe ")
    );

    // A DN received from a directory is parsed once and formats back without a second escape.
    let ad = Dn::parse("CN=Moe\\, Mary,OU=Staff,DC=example,DC=test").unwrap();
    assert_eq!(ad.rdn().unwrap().value_of("cn"), Some("Moe, Mary"));
    let shown = ad.to_string();
    assert_eq!(shown, "CN=Moe\\, Mary,OU=Staff,DC=example,DC=test");
    assert!(
        !shown.contains("\\\\,") && !shown.contains("\\5c,"),
        "{shown}"
    );
    assert_eq!(Dn::parse(&shown).unwrap(), ad);
}

#[test]
fn every_special_character_is_escaped() {
    let rdn = Rdn::new("cn", "# a,b+c\"d\\e<f>g;h=i\0j é ").unwrap();
    assert_eq!(
        rdn.to_string(),
        "cn=\\# a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\=i\\00j é\\ "
    );
    let back = Dn::parse(&rdn.to_string()).unwrap();
    assert_eq!(back.rdn().unwrap(), &rdn);
    // Hex escapes of UTF-8 decode to the character.
    let hexed = Dn::parse("cn=Ren\\c3\\a9").unwrap();
    assert_eq!(hexed.rdn().unwrap().value_of("cn"), Some("René"));
    assert_eq!(hexed.to_string(), "cn=René");
}

#[test]
fn multi_valued_rdns_and_hex_values() {
    let dn = Dn::parse("cn=Jane+uid=jdoe,ou=People,dc=example,dc=test").unwrap();
    let rdn = dn.rdn().unwrap();
    assert_eq!(rdn.avas().len(), 2);
    assert_eq!(rdn.value_of("UID"), Some("jdoe"));
    assert_eq!(
        dn.to_string(),
        "cn=Jane+uid=jdoe,ou=People,dc=example,dc=test"
    );
    let swapped = Dn::parse("uid=JDOE+cn=jane,ou=people,dc=example,dc=test").unwrap();
    assert!(dn.matches(&swapped));

    let hex = Dn::parse("1.3.6.1.4.1.1466.0=#04024869,dc=example").unwrap();
    assert_eq!(
        hex.rdn().unwrap().first().value(),
        &AvaValue::Ber(vec![4, 2, 0x48, 0x69])
    );
    assert_eq!(hex.to_string(), "1.3.6.1.4.1.1466.0=#04024869,dc=example");
}

#[test]
fn malformed_dns_are_refused() {
    for bad in [
        "cn",
        "cn=a,",
        "=a",
        "cn=a\\",
        "cn=a\\x1",
        "cn=#zz",
        "cn=a\"b",
        "cn=a;b",
        "cn=\\ff",
        "c n=a",
        "cn=a,,dc=b",
    ] {
        assert!(Dn::parse(bad).is_err(), "{bad:?} should not parse");
    }
    assert!(Dn::parse("").unwrap().is_root());
    assert!(Ava::new("c n", "x").is_err());
}

#[test]
fn c05_comparison_is_distinguished_name_match() {
    let source = Dn::parse("CN=Jane Doe,OU=People,DC=Example,DC=test").unwrap();
    let target = Dn::parse("cn=Jane Doe,ou=people,dc=example,dc=test").unwrap();
    assert!(source.matches(&target));
    assert_ne!(source, target, "structural equality keeps the spelling");
    assert_eq!(source.match_key(), target.match_key());
    let spaced = Dn::parse("cn=Jane   Doe ,ou=people,dc=example,dc=test").unwrap();
    assert!(spaced.matches(&target));
    assert!(
        !Dn::parse("cn=Jane Dee,ou=people,dc=example,dc=test")
            .unwrap()
            .matches(&target)
    );
    // A case-only rename is a match: not an identity change.
    let before = Dn::parse("cn=DOE John,ou=People,dc=example,dc=test").unwrap();
    let after = Dn::parse("cn=Doe John,ou=People,dc=example,dc=test").unwrap();
    assert!(before.matches(&after) && before != after);
}

#[test]
fn parent_child_rename_and_move() {
    let sales = Dn::parse("ou=Sales,dc=example,dc=test").unwrap();
    let marketing = Dn::parse("ou=Marketing,dc=example,dc=test").unwrap();
    let jdoe = sales.child(Rdn::new("uid", "jdoe").unwrap());
    assert_eq!(jdoe.parent().unwrap(), sales);
    assert!(jdoe.is_child_of(&sales) && !jdoe.is_child_of(&marketing));
    assert!(jdoe.is_within(&Dn::parse("DC=EXAMPLE,dc=test").unwrap()));
    let moved = jdoe.moved_to(&marketing).unwrap();
    assert_eq!(
        moved.to_string(),
        "uid=jdoe,ou=Marketing,dc=example,dc=test"
    );
    let renamed = moved.renamed(Rdn::new("uid", "jdoe2").unwrap()).unwrap();
    assert_eq!(
        renamed.to_string(),
        "uid=jdoe2,ou=Marketing,dc=example,dc=test"
    );
    assert!(
        Dn::root().parent().is_none() && Dn::root().renamed(Rdn::new("cn", "x").unwrap()).is_err()
    );
}

#[test]
fn c03_filter_assertion_values_are_escaped_once() {
    let user = Dn::parse("CN=Doe\\, Jane (Contractor),OU=Staff,DC=example,DC=test").unwrap();
    let filter = Filter::and([
        Filter::eq("objectClass", "group"),
        Filter::eq("member", &user),
    ]);
    assert_eq!(
        filter.render().unwrap(),
        "(&(objectClass=group)(member=CN=Doe\\5c, Jane \\28Contractor\\29,OU=Staff,DC=example,DC=test))"
    );
    assert_eq!(
        Filter::eq("sAMAccountName", "j*").render().unwrap(),
        "(sAMAccountName=j\\2a)"
    );
    assert_eq!(
        Filter::eq("sAMAccountName", "a)(cn=*").render().unwrap(),
        "(sAMAccountName=a\\29\\28cn=\\2a)"
    );
    assert_eq!(Filter::eq("cn", "nul\0").render().unwrap(), "(cn=nul\\00)");
    assert_eq!(
        Filter::eq_bytes("objectGUID", &[0x01, 0xab, 0x2a])
            .render()
            .unwrap(),
        "(objectGUID=\\01\\ab\\2a)"
    );
}

#[test]
fn the_other_filter_forms_render() {
    let f = Filter::or([
        Filter::not(Filter::present("mail")),
        Filter::substring("cn", Some("a*"), &["(b)"], Some("c\\")),
        Filter::starts_with("uid", "j"),
        Filter::ge("uidNumber", "1000"),
        Filter::le("uidNumber", "2000"),
    ]);
    assert_eq!(
        f.render().unwrap(),
        "(|(!(mail=*))(cn=a\\2a*\\28b\\29*c\\5c)(uid=j*)(uidNumber>=1000)(uidNumber<=2000))"
    );
    assert!(Filter::eq("uid)(cn=*", "x").render().is_err());
    assert!(Filter::substring("cn", None, &[], None).render().is_err());
    assert!(Filter::eq("member;range=0-1", "x").render().is_err());
}

fn hostile_value() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        ",", "+", "\"", "\\", "<", ">", ";", "=", " ", "#", "\0", "é", "日本", "a", "Z", "*", "(",
        ")", "\\2c", "5c",
    ]);
    prop::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn rdn_values_round_trip(value in hostile_value(), other in hostile_value()) {
        let dn = Dn::parse("ou=People,dc=example,dc=test").unwrap()
            .child(Rdn::from_avas(vec![Ava::new("cn", value.clone()).unwrap(), Ava::new("uid", other.clone()).unwrap()]).unwrap())
            .child(Rdn::new("cn", value.clone()).unwrap());
        let text = dn.to_string();
        let back = Dn::parse(&text).unwrap();
        prop_assert_eq!(&back, &dn);
        prop_assert_eq!(back.rdn().unwrap().value_of("cn"), Some(value.as_str()));
        prop_assert_eq!(back.rdns()[1].value_of("uid"), Some(other.as_str()));
        prop_assert_eq!(back.rdns().len(), 5);
        prop_assert_eq!(back.to_string(), text);
    }

    #[test]
    fn a_value_never_adds_a_filter_clause(value in hostile_value(), piece in hostile_value()) {
        for f in [Filter::eq("uid", value.clone()), Filter::substring("cn", Some(&value), &[&piece], None)] {
            let text = f.render().unwrap();
            // Only the filter's own parentheses and wildcards are unescaped.
            prop_assert_eq!(text.matches('(').count(), 1);
            prop_assert_eq!(text.matches(')').count(), 1);
            let stars = if matches!(f, Filter::Substring { .. }) { 2 } else { 0 };
            prop_assert_eq!(text.matches('*').count(), stars);
            prop_assert!(text.starts_with("(uid=") || text.starts_with("(cn="));
            // Every backslash starts a two-hex-digit escape.
            let bytes = text.as_bytes();
            for (i, b) in bytes.iter().enumerate() {
                if *b == b'\\' {
                    prop_assert!(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit));
                    prop_assert!(bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit));
                }
            }
            prop_assert!(!text.contains('\0'));
        }
    }
}
