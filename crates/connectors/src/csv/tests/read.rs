//! Reading details: encodings, byte-order marks, header rules, row errors, chunked input.

use std::io::Write;

use super::{Trickle, drain, reader};
use crate::csv::{CsvEncoding, CsvError, CsvFormat, CsvReader};

fn with_encoding(encoding: CsvEncoding) -> CsvFormat {
    CsvFormat {
        encoding,
        ..CsvFormat::default()
    }
}

fn utf16(text: &str, little: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
    for u in units {
        out.extend(if little {
            u.to_le_bytes()
        } else {
            u.to_be_bytes()
        });
    }
    out
}

fn fields(r: &mut CsvReader) -> Vec<Vec<String>> {
    drain(r)
        .into_iter()
        .map(|row| row.unwrap().fields)
        .collect()
}

#[test]
fn windows_1252_decodes_umlauts() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"id,sn\r\n1,M\xFCller\r\n2,\x80uro\r\n")
        .unwrap();
    let mut r = CsvReader::open(file.path(), &with_encoding(CsvEncoding::Windows1252)).unwrap();
    assert_eq!(fields(&mut r), [["1", "Müller"], ["2", "€uro"]]);
}

#[test]
fn invalid_utf8_suggests_windows_1252_and_reading_continues() {
    let mut r = reader(b"id,sn\n1,M\xFCller\n2,Lund\n", &CsvFormat::default()).unwrap();
    let rows = drain(&mut r);
    let err = rows[0].as_ref().unwrap_err();
    assert!(!err.fatal);
    assert_eq!(err.column.as_deref(), Some("sn"));
    assert!(err.message.contains("line 2, column \"sn\""), "{err}");
    assert!(err.message.contains("encoding = \"windows-1252\""), "{err}");
    assert_eq!(rows[1].as_ref().unwrap().fields, ["2", "Lund"]);
    assert_eq!((r.summary().records, r.summary().rejected), (1, 1));
}

#[test]
fn utf16_boms_are_honoured() {
    let text = "id,sn\r\n1,Müller\r\n";
    for (little, configured) in [
        (true, CsvEncoding::Utf16Le),
        (false, CsvEncoding::Utf16Be),
        (false, CsvEncoding::Utf16Le),
    ] {
        let bytes = utf16(text, little, true);
        let mut r = reader(&bytes, &with_encoding(configured)).unwrap();
        assert_eq!(r.headers(), ["id", "sn"]);
        assert_eq!(fields(&mut r), [["1", "Müller"]]);
        assert_eq!(r.summary().bytes, bytes.len() as u64);
    }
    let mut r = reader(
        &utf16(text, false, false),
        &with_encoding(CsvEncoding::Utf16Be),
    )
    .unwrap();
    assert_eq!(fields(&mut r), [["1", "Müller"]]);
}

#[test]
fn unpaired_surrogate_in_utf16_is_a_row_error() {
    let mut bytes = utf16("id,sn\n1,", true, true);
    bytes.extend_from_slice(&[0x00, 0xD8]);
    bytes.extend(utf16("x\n2,y\n", true, false));
    let mut r = reader(&bytes, &with_encoding(CsvEncoding::Utf16Le)).unwrap();
    let rows = drain(&mut r);
    let err = rows[0].as_ref().unwrap_err();
    assert!(err.message.contains("not valid UTF-16LE"), "{err}");
    assert_eq!(rows[1].as_ref().unwrap().fields, ["2", "y"]);
}

#[test]
fn bom_contradicting_the_encoding_is_a_clear_error() {
    let err = reader(&utf16("a\n", true, true), &CsvFormat::default()).unwrap_err();
    assert!(matches!(err, CsvError::Encoding { .. }));
    assert!(
        err.to_string().contains("set encoding = \"utf-16le\""),
        "{err}"
    );
    let err = reader(&utf16("a\n", false, true), &CsvFormat::default()).unwrap_err();
    assert!(
        err.to_string().contains("set encoding = \"utf-16be\""),
        "{err}"
    );
    let bytes = b"\xEF\xBB\xBFa\n";
    let err = reader(bytes, &with_encoding(CsvEncoding::Windows1252)).unwrap_err();
    assert!(
        err.to_string().contains("set encoding = \"utf-8\""),
        "{err}"
    );
}

#[test]
fn header_problems_are_csv_errors() {
    let format = CsvFormat::default();
    assert!(matches!(
        reader(b"", &format),
        Err(CsvError::EmptyFile { .. })
    ));
    assert!(matches!(
        reader(b"\xEF\xBB\xBF\r\n\n", &format),
        Err(CsvError::EmptyFile { .. })
    ));
    assert!(matches!(
        reader(b"a,,b\n", &format),
        Err(CsvError::EmptyColumnName { column: 2, .. })
    ));
    assert!(matches!(
        reader(b"a, a\n", &format),
        Err(CsvError::DuplicateColumn { .. })
    ));
    assert!(matches!(
        reader(b"a,\"b\n", &format),
        Err(CsvError::MalformedHeader { .. })
    ));
    let err = reader(b"id,M\xFCller\n", &format).unwrap_err();
    assert!(err.to_string().contains("windows-1252"), "{err}");
    let semicolon = CsvFormat {
        delimiter: '"',
        ..CsvFormat::default()
    };
    assert!(matches!(
        reader(b"a\n", &semicolon),
        Err(CsvError::InvalidDelimiter { .. })
    ));
}

#[test]
fn open_missing_file_names_the_path() {
    let err = CsvReader::open("/nonexistent/hr.csv".as_ref(), &CsvFormat::default()).unwrap_err();
    assert!(matches!(err, CsvError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/hr.csv"), "{err}");
}

#[test]
fn values_are_returned_exactly() {
    let input = b" id , sn \n007, padded ,\n\n\r\n0042,\"\",x\n";
    let mut r = reader(input, &CsvFormat::default()).unwrap();
    assert_eq!(r.headers(), ["id", "sn"]);
    let rows = drain(&mut r);
    let err = rows[0].as_ref().unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.message.ends_with(
        "line 2: expected 2 fields, found 3; check for an unquoted delimiter or a missing value in this row"
    ), "{err}");
    let err = rows[1].as_ref().unwrap_err();
    assert_eq!(err.line, 5);
    let mut r = reader(b"id,sn\n007, padded \n", &CsvFormat::default()).unwrap();
    assert_eq!(fields(&mut r), [["007", " padded "]]);
}

#[test]
fn one_byte_reads_give_the_same_result() {
    let text = "\u{FEFF}id,name\r\n1,\"Ali\r\nValiev\"\r\n2,\"q\"\"uote\"\r\n3,Müller\n";
    let expected = [["1", "Ali\r\nValiev"], ["2", "q\"uote"], ["3", "Müller"]];
    let source = Box::new(Trickle(text.as_bytes().to_vec(), 0));
    let mut r = CsvReader::from_reader(source, "t", &CsvFormat::default()).unwrap();
    assert_eq!(fields(&mut r), expected);
    let source = Box::new(Trickle(
        utf16(text.trim_start_matches('\u{FEFF}'), true, true),
        0,
    ));
    let mut r = CsvReader::from_reader(source, "t", &with_encoding(CsvEncoding::Utf16Le)).unwrap();
    assert_eq!(fields(&mut r), expected);
}

#[test]
fn format_config_uses_documented_names() {
    let format: CsvFormat =
        serde_json::from_str(r#"{"delimiter":";","encoding":"windows-1252"}"#).unwrap();
    assert_eq!(format.delimiter, ';');
    assert_eq!(format.encoding, CsvEncoding::Windows1252);
    assert!(!format.write_bom);
    let names: Vec<String> = [
        CsvEncoding::Utf8,
        CsvEncoding::Windows1252,
        CsvEncoding::Utf16Le,
        CsvEncoding::Utf16Be,
    ]
    .iter()
    .map(|e| serde_json::to_string(e).unwrap())
    .collect();
    assert_eq!(
        names,
        [
            "\"utf-8\"",
            "\"windows-1252\"",
            "\"utf-16le\"",
            "\"utf-16be\""
        ]
    );
    let default: CsvFormat = serde_json::from_str("{}").unwrap();
    assert_eq!(default, CsvFormat::default());
}
