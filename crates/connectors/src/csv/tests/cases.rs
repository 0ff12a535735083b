//! Catalogue cases C-19, C-20, C-21, C-48 and the real HR export.

use std::path::Path;

use super::{drain, reader};
use crate::csv::{CsvError, CsvFormat, CsvReader, file_fingerprint};

const C19: &[u8] = b"\xEF\xBB\xBFemployeeId,givenName,mail\r\n1001,Jane,jane@example.test\r\n";

const C20: &[u8] = b"employeeId,displayName,mail\r\n\
1002,\"Ali\r\nValiev\",ali@example.test\r\n\
1003,Bo Lund,bo@example.test\r\n\
1004,\"Unterminated,x@example.test\r\n";

const C21: &[u8] =
    b"employeeId;givenName;sn;mail;costCenter\n1001;Jane;Doe;jane@example.test;4711,5\n";

#[test]
fn c19_bom_is_stripped_and_header_recognised() {
    let mut r = reader(C19, &CsvFormat::default()).unwrap();
    assert_eq!(r.headers(), ["employeeId", "givenName", "mail"]);
    assert_eq!(r.column_index("employeeId"), Some(0));
    r.require_columns(&["employeeId"]).unwrap();
    let rows = drain(&mut r);
    assert_eq!(rows.len(), 1);
    let record = rows[0].as_ref().unwrap();
    assert_eq!(record.line, 2);
    assert_eq!(record.fields, ["1001", "Jane", "jane@example.test"]);
    let summary = r.summary();
    assert_eq!((summary.records, summary.rejected), (1, 0));
    assert_eq!(summary.bytes, C19.len() as u64);
    assert_eq!(summary.blake3, blake3::hash(C19).to_hex().to_string());
    assert!(summary.complete);
}

#[test]
fn c19_missing_required_column_fails() {
    let r = reader(C19, &CsvFormat::default()).unwrap();
    let err = r.require_columns(&["employeeId", "anchor"]).unwrap_err();
    match &err {
        CsvError::MissingColumns { missing, hint, .. } => {
            assert_eq!(missing, &["anchor"]);
            assert_eq!(hint, &None);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("\"anchor\""), "{err}");
}

#[test]
fn c20_quoted_newline_crlf_and_unterminated_quote() {
    let mut r = reader(C20, &CsvFormat::default()).unwrap();
    let rows = drain(&mut r);
    assert_eq!(rows.len(), 3);
    let ali = rows[0].as_ref().unwrap();
    assert_eq!((ali.line, ali.fields[1].as_str()), (2, "Ali\r\nValiev"));
    let bo = rows[1].as_ref().unwrap();
    assert_eq!(bo.line, 4);
    assert_eq!(bo.fields, ["1003", "Bo Lund", "bo@example.test"]);
    let err = rows[2].as_ref().unwrap_err();
    assert!(err.fatal);
    // 1004 is the fourth record but starts on physical line 5 (1002 spans lines 2-3).
    assert_eq!(err.line, 5);
    assert!(
        err.message
            .contains("unterminated quoted field starting at line 5"),
        "{err}"
    );
    assert!(err.message.contains("test.csv"), "{err}");
    assert!(r.next_record().is_none());
    let summary = r.summary();
    assert_eq!((summary.records, summary.rejected), (2, 1));
    assert!(!summary.complete);
}

#[test]
fn c21_wrong_delimiter_fails_with_hint() {
    let r = reader(C21, &CsvFormat::default()).unwrap();
    let err = r.require_columns(&["employeeId", "mail"]).unwrap_err();
    let CsvError::MissingColumns { missing, hint, .. } = &err else {
        panic!("unexpected {err:?}");
    };
    assert_eq!(missing, &["employeeId", "mail"]);
    assert_eq!(
        hint.as_deref(),
        Some("the file appears to use ';' as its delimiter; set delimiter = \";\"")
    );
    assert!(err.to_string().contains("set delimiter = \";\""), "{err}");
}

#[test]
fn c21_semicolon_keeps_comma_values_intact() {
    let format = CsvFormat {
        delimiter: ';',
        ..CsvFormat::default()
    };
    let mut r = reader(C21, &format).unwrap();
    r.require_columns(&["employeeId", "mail"]).unwrap();
    let rows = drain(&mut r);
    let record = rows[0].as_ref().unwrap();
    assert_eq!(record.fields[4], "4711,5");
    assert_eq!(record.fields.len(), 5);
}

const SECRET: &str = "Tr1cky,Pa$$";

#[test]
fn c48_values_never_appear_in_row_errors() {
    let bad_rows: [&[u8]; 6] = [
        b"jdoe,\"Tr1cky,Pa$$\",Viewer,extra\n",
        b"jdoe,Tr1cky\"Pa$$,Viewer\n",
        b"jdoe,\"Tr1cky\"Pa$$,Viewer\n",
        b"jdoe,\"Tr1cky,Pa$$\xFF\",Viewer\n",
        b"jdoe,Tr1cky,Pa$$\rx,Viewer\n",
        b"jdoe,\"Tr1cky,Pa$$\n",
    ];
    for bad in bad_rows {
        let mut bytes = b"user,password,role\n".to_vec();
        bytes.extend_from_slice(bad);
        let mut r = reader(&bytes, &CsvFormat::default()).unwrap();
        let rows = drain(&mut r);
        let err = rows[0].as_ref().unwrap_err();
        let shown = format!("{err} {err:?} {:?} {r:?}", r.summary());
        assert!(!shown.contains("Tr1cky"), "leak: {shown}");
        assert!(!shown.contains("Pa$$"), "leak: {shown}");
        assert!(err.message.contains("line 2"), "{err}");
    }
}

#[test]
fn c48_values_never_appear_in_write_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    let format = CsvFormat {
        encoding: crate::csv::CsvEncoding::Windows1252,
        ..CsvFormat::default()
    };
    let headers = vec!["user".to_owned(), "password".to_owned()];
    let rows = vec![vec!["jdoe".to_owned(), format!("{SECRET}\u{2603}")]];
    let err = crate::csv::write_atomically(&path, &format, &headers, rows.into_iter()).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("Tr1cky"), "leak: {shown}");
    assert!(
        shown.contains("record 1, column 2 (\"password\")"),
        "{shown}"
    );
}

#[test]
fn hr_dataset_reads_completely() {
    let path = Path::new("/work/shared/data/hr/HRDataset_v14.csv");
    if !path.exists() {
        eprintln!("skipping: {} not present", path.display());
        return;
    }
    let mut r = CsvReader::open(path, &CsvFormat::default()).unwrap();
    assert_eq!(r.headers().len(), 36);
    assert_eq!(r.headers()[0], "Employee_Name");
    r.require_columns(&["Employee_Name", "EmpID"]).unwrap();
    let rows = drain(&mut r);
    assert!(
        rows.iter().all(Result::is_ok),
        "{:?}",
        rows.iter().find(|r| r.is_err())
    );
    assert_eq!(rows.len(), 311);
    let first = rows[0].as_ref().unwrap();
    assert!(
        first.fields[0].contains(", "),
        "quoted \"Last, First\" name kept whole"
    );
    let summary = r.summary();
    assert!(summary.complete);
    assert_eq!(summary.records, 311);
    assert_eq!(summary.bytes, std::fs::metadata(path).unwrap().len());
    assert_eq!(summary.blake3, file_fingerprint(path).unwrap());
}
