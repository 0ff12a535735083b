//! CSV sources through the engine: byte-order mark (C-19), quoted line breaks, CRLF and an
//! unterminated quote (C-20), the delimiter (C-21).

use identitymesh_domain::run::RunStatus;
use identitymesh_domain::staged::PendingImport;

use crate::support::*;

const C19: &[u8] = b"\xEF\xBB\xBFemployeeId,givenName,mail\r\n1001,Jane,jane@example.test\r\n";

const C20: &[u8] = b"employeeId,displayName,mail\r\n\
1002,\"Ali\r\nValiev\",ali@example.test\r\n\
1003,Bo Lund,bo@example.test\r\n\
1004,\"Unterminated,x@example.test\r\n";

const C21: &[u8] =
    b"employeeId;givenName;sn;mail;costCenter\n1001;Jane;Doe;jane@example.test;4711,5\n";

/// A source connector with only a schema (no mesh rules): enough to import.
fn source(name: &str, path: &str, columns: &str, delimiter: &str) -> String {
    format!(
        r#"
[connectors.{name}]
type = "csv"
anchor = "employeeId"
columns = [{columns}]
csv = {{ path = "{path}", delimiter = "{delimiter}" }}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c19_bom_is_stripped_and_a_missing_anchor_column_fails_the_import() {
    on_every_backend(async |env| {
        env.write("c19.csv", C19);
        env.write(
            "nokey.csv",
            b"\xEF\xBB\xBFgivenName,mail\r\nJane,jane@example.test\r\n",
        );
        let columns = r#""employeeId", "givenName", "mail""#;
        let engine = env.engine(&format!(
            "{}{}",
            source("hr", "c19.csv", columns, ","),
            source("nokey", "nokey.csv", columns, ",")
        ));

        let report = run(&engine, "hr", FullImport).await;
        assert_status(&report, RunStatus::Completed);
        assert_eq!(
            (
                report.stats.read,
                report.stats.staged_adds,
                report.stats.rejected
            ),
            (1, 1, 0)
        );
        let jane = staged_by_anchor(env, "hr", "1001")
            .await
            .expect("1001 is staged under its anchor");
        assert_eq!(
            jane.attributes.first_text("givenName").as_deref(),
            Some("Jane")
        );
        assert_eq!(
            jane.attributes.first_text("mail").as_deref(),
            Some("jane@example.test")
        );

        let failed = run(&engine, "nokey", FullImport).await;
        assert_status(&failed, RunStatus::Failed);
        let reason = failed.reason.clone().unwrap_or_default();
        assert!(
            reason.contains("employeeId"),
            "the reason names the missing column: {reason}"
        );
        assert!(
            staged(env, "nokey").await.is_empty(),
            "no row is imported with a null anchor"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c20_quoted_line_break_crlf_and_an_unterminated_quote() {
    on_every_backend(async |env| {
        let engine = env.engine(&source(
            "hr",
            "hr.csv",
            r#""employeeId", "displayName", "mail""#,
            ",",
        ));
        env.write(
            "hr.csv",
            "employeeId,displayName,mail\r\n1001,Old Row,old@example.test\r\n",
        );
        assert_status(&run(&engine, "hr", FullImport).await, RunStatus::Completed);

        env.write("hr.csv", C20);
        let report = run(&engine, "hr", FullImport).await;
        assert_status(&report, RunStatus::Failed);
        let reason = report.reason.clone().unwrap_or_default();
        assert!(
            reason.contains("line 5"),
            "names the physical line of the unterminated quote: {reason}"
        );
        assert_eq!(
            (
                report.stats.staged_adds,
                report.stats.rejected,
                report.stats.staged_deletes
            ),
            (2, 1, 0),
            "{report:#?}"
        );

        let ali = staged_by_anchor(env, "hr", "1002").await.unwrap();
        assert_eq!(
            ali.attributes.first_text("displayName").as_deref(),
            Some("Ali\r\nValiev"),
            "the line break is kept"
        );
        let bo = staged_by_anchor(env, "hr", "1003").await.unwrap();
        assert_eq!(
            bo.attributes.first_text("mail").as_deref(),
            Some("bo@example.test"),
            "no \\r in the value"
        );
        assert!(staged_by_anchor(env, "hr", "1004").await.is_none());
        let old = staged_by_anchor(env, "hr", "1001").await.unwrap();
        assert_ne!(
            old.pending,
            PendingImport::Delete,
            "a failed import stages no deletion"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c21_wrong_delimiter_fails_with_a_hint_and_the_right_one_keeps_values_intact() {
    on_every_backend(async |env| {
        env.write("c21.csv", C21);
        let columns = r#""employeeId", "givenName", "sn", "mail", "costCenter""#;
        let engine = env.engine(&format!(
            "{}{}",
            source("comma", "c21.csv", columns, ","),
            source("semicolon", "c21.csv", columns, ";")
        ));

        let failed = run(&engine, "comma", FullImport).await;
        assert_status(&failed, RunStatus::Failed);
        let reason = failed.reason.clone().unwrap_or_default();
        assert!(
            reason.contains("employeeId") && reason.contains("mail"),
            "{reason}"
        );
        assert!(
            reason.contains("delimiter = \";\""),
            "the hint names the delimiter: {reason}"
        );
        assert!(
            staged(env, "comma").await.is_empty(),
            "0 usable rows is never success"
        );

        assert_status(
            &run(&engine, "semicolon", FullImport).await,
            RunStatus::Completed,
        );
        let jane = staged_by_anchor(env, "semicolon", "1001").await.unwrap();
        assert_eq!(
            jane.attributes.first_text("costCenter").as_deref(),
            Some("4711,5")
        );
        assert_eq!(
            jane.attributes.first_text("mail").as_deref(),
            Some("jane@example.test")
        );
    })
    .await;
}
