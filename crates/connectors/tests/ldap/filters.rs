//! C-03 on the wire: assertion values built with the filter builder find exactly the literal
//! value; a DN with `\,` and parentheses as a member value finds the group.

use crate::harness::{ADMIN, ROOT_PW, SUFFIX, Slapd};
use identitymesh_ldap::{Dn, Filter};
use ldap3::{LdapConnAsync, Scope, SearchEntry};

#[tokio::test]
async fn c03_filter_values_match_only_the_literal() {
    let Some(slapd) = Slapd::start(&[]) else {
        return;
    };
    let ldif = format!(
        "dn: ou=Staff,{SUFFIX}\nobjectClass: organizationalUnit\nou: Staff\n\n\
         dn: cn=Doe\\, Jane (Contractor),ou=Staff,{SUFFIX}\nobjectClass: inetOrgPerson\ncn: Doe, Jane (Contractor)\nsn: Doe\nuid: jdoe\n\n\
         dn: cn=contractors,ou=Staff,{SUFFIX}\nobjectClass: groupOfNames\ncn: contractors\nmember: cn=Doe\\, Jane (Contractor),ou=Staff,{SUFFIX}\n\n\
         dn: cn=others,ou=Staff,{SUFFIX}\nobjectClass: groupOfNames\ncn: others\nmember: cn=admin,{SUFFIX}\n\n\
         dn: uid=jsmith,ou=People,{SUFFIX}\nobjectClass: inetOrgPerson\ncn: J Smith\nsn: Smith\nuid: jsmith\n\n\
         dn: uid=j*,ou=People,{SUFFIX}\nobjectClass: inetOrgPerson\ncn: J Star\nsn: Star\nuid: j*\n\n"
    );
    slapd.ldapadd(ADMIN, &ldif, false);
    let (conn, mut ldap) = LdapConnAsync::new(&slapd.url()).await.unwrap();
    ldap3::drive!(conn);
    ldap.simple_bind(ADMIN, ROOT_PW)
        .await
        .unwrap()
        .success()
        .unwrap();

    let user = Dn::parse("CN=Doe\\, Jane (Contractor),OU=Staff,DC=example,DC=test").unwrap();
    let filter = Filter::and([
        Filter::eq("objectClass", "groupOfNames"),
        Filter::eq("member", &user),
    ])
    .render()
    .unwrap();
    assert_eq!(
        filter,
        "(&(objectClass=groupOfNames)(member=CN=Doe\\5c, Jane \\28Contractor\\29,OU=Staff,DC=example,DC=test))"
    );
    let (found, _) = ldap
        .search(SUFFIX, Scope::Subtree, &filter, vec!["cn"])
        .await
        .unwrap()
        .success()
        .unwrap();
    let groups: Vec<String> = found
        .into_iter()
        .map(|e| SearchEntry::construct(e).dn)
        .collect();
    assert_eq!(groups, [format!("cn=contractors,ou=Staff,{SUFFIX}")]);

    let uids = |found: Vec<ldap3::ResultEntry>| -> Vec<String> {
        found
            .into_iter()
            .map(|e| SearchEntry::construct(e).attrs["uid"][0].clone())
            .collect()
    };
    for (value, expected) in [("j*", vec!["j*"]), ("a)(cn=*", vec![])] {
        let filter = Filter::eq("uid", value).render().unwrap();
        let (found, _) = ldap
            .search(SUFFIX, Scope::Subtree, &filter, vec!["uid"])
            .await
            .unwrap()
            .success()
            .unwrap();
        assert_eq!(uids(found), expected, "{filter}");
    }
    // A real wildcard is only ever a builder's substring filter.
    let filter = Filter::starts_with("uid", "j").render().unwrap();
    let (found, _) = ldap
        .search(SUFFIX, Scope::Subtree, &filter, vec!["uid"])
        .await
        .unwrap()
        .success()
        .unwrap();
    assert_eq!(uids(found).len(), 3);
}
