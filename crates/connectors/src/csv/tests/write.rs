//! Writing: quoting, encodings, atomicity, fingerprints, the round-trip property and read speed.

use std::io::Write;
use std::path::Path;

use proptest::prelude::*;

use super::{drain, reader};
use crate::csv::{
    CsvEncoding, CsvError, CsvFormat, CsvReader, file_fingerprint, write_atomically,
    write_rows_atomically,
};

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn format(encoding: CsvEncoding, delimiter: char) -> CsvFormat {
    CsvFormat {
        delimiter,
        encoding,
        write_bom: false,
    }
}

fn read_back(path: &Path, format: &CsvFormat) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = CsvReader::open(path, format).unwrap();
    let rows = drain(&mut r)
        .into_iter()
        .map(|row| row.unwrap().fields)
        .collect();
    (r.headers().to_vec(), rows)
}

/// Files in `dir`, to check that no temp file is left behind.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn quoting_rules_and_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    let rows = vec![
        strings(&["007", "a,b", "say \"hi\""]),
        strings(&[" lead", "line\nbreak", ""]),
    ];
    let summary = write_atomically(
        &path,
        &CsvFormat::default(),
        &strings(&["id", "x", "y"]),
        rows.into_iter(),
    )
    .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let expected = "id,x,y\r\n007,\"a,b\",\"say \"\"hi\"\"\"\r\n\" lead\",\"line\nbreak\",\r\n";
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), expected);
    assert_eq!(summary.records, 2);
    assert_eq!(summary.bytes, bytes.len() as u64);
    assert_eq!(summary.blake3, file_fingerprint(&path).unwrap());
}

#[test]
fn lone_empty_field_is_not_written_as_a_blank_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.csv");
    let rows = vec![strings(&[""]), strings(&["x"])];
    write_atomically(
        &path,
        &CsvFormat::default(),
        &strings(&["only"]),
        rows.into_iter(),
    )
    .unwrap();
    let (_, back) = read_back(&path, &CsvFormat::default());
    assert_eq!(back, [[""], ["x"]]);
}

#[test]
fn encodings_and_boms() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("enc.csv");
    let headers = strings(&["id", "sn"]);
    let rows = vec![strings(&["1", "Müller"])];
    let cases = [
        (CsvEncoding::Utf8, true, &b"\xEF\xBB\xBFid"[..]),
        (
            CsvEncoding::Windows1252,
            true,
            &b"id,sn\r\n1,M\xFCller\r\n"[..],
        ),
        (CsvEncoding::Utf16Le, false, &b"\xFF\xFEi\0d\0"[..]),
        (CsvEncoding::Utf16Be, false, &b"\xFE\xFF\0i\0d"[..]),
    ];
    for (encoding, write_bom, prefix) in cases {
        let fmt = CsvFormat {
            write_bom,
            ..format(encoding, ',')
        };
        write_atomically(&path, &fmt, &headers, rows.clone().into_iter()).unwrap();
        assert!(
            std::fs::read(&path).unwrap().starts_with(prefix),
            "{encoding:?}"
        );
        assert_eq!(read_back(&path, &fmt), (headers.clone(), rows.clone()));
    }
}

#[test]
fn failed_write_leaves_the_old_file_and_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accounts.csv");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(b"old\r\n")
        .unwrap();
    let headers = strings(&["id", "name"]);
    let fmt = format(CsvEncoding::Windows1252, ',');
    let rows = (0..10_000).map(|i| {
        let name = if i == 9_000 { "snow \u{2603}" } else { "ok" };
        vec![i.to_string(), name.to_owned()]
    });
    let err = write_atomically(&path, &fmt, &headers, rows).unwrap_err();
    assert!(
        matches!(
            err,
            CsvError::Unencodable {
                record: 9_001,
                column: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"old\r\n");
    assert_eq!(entries(dir.path()), ["accounts.csv"]);

    let short = vec![strings(&["1", "a"]), strings(&["2"])];
    let err = write_atomically(&path, &CsvFormat::default(), &headers, short.into_iter());
    assert!(matches!(
        err,
        Err(CsvError::FieldCount {
            record: 2,
            found: 1,
            ..
        })
    ));
    assert_eq!(std::fs::read(&path).unwrap(), b"old\r\n");
    assert_eq!(entries(dir.path()), ["accounts.csv"]);

    let failing = [
        Ok(strings(&["1", "a"])),
        Err(CsvError::EmptyFile { path: "src".into() }),
    ];
    let err = write_rows_atomically(&path, &CsvFormat::default(), &headers, failing.into_iter());
    assert!(matches!(err, Err(CsvError::EmptyFile { .. })));
    assert_eq!(std::fs::read(&path).unwrap(), b"old\r\n");
    assert_eq!(entries(dir.path()), ["accounts.csv"]);

    let missing_dir = dir.path().join("nope").join("x.csv");
    let err = write_atomically(
        &missing_dir,
        &CsvFormat::default(),
        &headers,
        std::iter::empty(),
    );
    assert!(matches!(err, Err(CsvError::Io { .. })));
}

#[cfg(unix)]
#[test]
fn existing_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.csv");
    std::fs::write(&path, b"a\r\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    write_atomically(
        &path,
        &CsvFormat::default(),
        &strings(&["a"]),
        std::iter::empty(),
    )
    .unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

fn check_round_trip(encoding: CsvEncoding, delimiter: char, rows: Vec<Vec<String>>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rt.csv");
    let headers = strings(&["a", "b", "c"]);
    let fmt = format(encoding, delimiter);
    let summary = write_atomically(&path, &fmt, &headers, rows.clone().into_iter()).unwrap();
    assert_eq!(summary.records, rows.len() as u64);
    assert_eq!(read_back(&path, &fmt), (headers, rows));
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,6}",
        "[ ,;\t\"\r\na-z]{0,8}",
        any::<String>(),
        "\\PC{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn write_then_read_round_trips(
        rows in prop::collection::vec(prop::collection::vec(field(), 3), 0..8),
        delimiter in prop::sample::select(vec![',', ';', '\t', '|']),
        encoding in prop::sample::select(vec![CsvEncoding::Utf8, CsvEncoding::Utf16Le, CsvEncoding::Utf16Be]),
    ) {
        check_round_trip(encoding, delimiter, rows);
    }

    #[test]
    fn windows_1252_round_trips(
        rows in prop::collection::vec(prop::collection::vec("[ -~äöüßé€\r\n\"]{0,10}", 3), 0..8),
    ) {
        check_round_trip(CsvEncoding::Windows1252, ',', rows);
    }
}

/// `cargo test --release -p identitymesh-connectors -- --ignored read_speed --nocapture`
#[test]
#[ignore = "speed measurement; run in release mode"]
fn read_speed_one_million_rows() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    {
        let mut out = std::io::BufWriter::new(file.as_file_mut());
        writeln!(
            out,
            "employeeId,givenName,sn,mail,department,title,manager,costCenter"
        )
        .unwrap();
        for i in 0..1_000_000u32 {
            write!(
                out,
                "{i:08},Firstname{i},\"Lastname, Jr {i}\",first.last{i}@example.test,"
            )
            .unwrap();
            writeln!(
                out,
                "Research and Development,Senior Engineer,{:08},CC-{:05}-SYNC",
                i / 7,
                i % 977
            )
            .unwrap();
        }
    }
    let size = std::fs::metadata(file.path()).unwrap().len();
    let start = std::time::Instant::now();
    let mut r = CsvReader::open(file.path(), &CsvFormat::default()).unwrap();
    let mut fields = 0usize;
    while let Some(row) = r.next_record() {
        fields += row.unwrap().fields.len();
    }
    let elapsed = start.elapsed();
    let summary = r.summary();
    assert_eq!(summary.records, 1_000_000);
    assert_eq!(fields, 8_000_000);
    println!(
        "read {} rows, {} bytes ({:.0} bytes/row) in {:.3} s = {:.0} MB/s (incl. blake3)",
        summary.records,
        size,
        size as f64 / 1e6,
        elapsed.as_secs_f64(),
        size as f64 / 1e6 / elapsed.as_secs_f64()
    );
}

#[test]
fn reader_helper_and_c20_bytes_hash_match() {
    let bytes = b"id\n1\n";
    let mut r = reader(bytes, &CsvFormat::default()).unwrap();
    drain(&mut r);
    assert_eq!(r.summary().blake3, blake3::hash(bytes).to_hex().to_string());
}
