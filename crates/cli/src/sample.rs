//! Fictional sample data written by IdentityMesh itself: an HR export with the column layout of
//! the public HRDataset_v14 sample, and an "existing accounts" list to join against. Every name
//! is generated; the output is deterministic, so a second quickstart writes the same bytes.

/// The 36 columns of the HRDataset_v14 layout.
pub const HR_COLUMNS: [&str; 36] = [
    "Employee_Name",
    "EmpID",
    "MarriedID",
    "MaritalStatusID",
    "GenderID",
    "EmpStatusID",
    "DeptID",
    "PerfScoreID",
    "FromDiversityJobFairID",
    "Salary",
    "Termd",
    "PositionID",
    "Position",
    "State",
    "Zip",
    "DOB",
    "Sex",
    "MaritalDesc",
    "CitizenDesc",
    "HispanicLatino",
    "RaceDesc",
    "DateofHire",
    "DateofTermination",
    "TermReason",
    "EmploymentStatus",
    "Department",
    "ManagerName",
    "ManagerID",
    "RecruitmentSource",
    "PerformanceScore",
    "EngagementSurvey",
    "EmpSatisfaction",
    "SpecialProjectsCount",
    "LastPerformanceReview_Date",
    "DaysLateLast30",
    "Absences",
];

const GIVEN: [&str; 24] = [
    "Amara", "Bjorn", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas",
    "Kalani", "Lucia", "Mateo", "Noor", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tamsin",
    "Umar", "Vera", "Wen", "Zoë",
];
const SURNAMES: [&str; 20] = [
    "Abernathy",
    "Brightwater",
    "Castellano",
    "Dunmore",
    "Eriksdottir",
    "Fairweather",
    "Galloway",
    "Hollis",
    "Ibarra",
    "Jankowski",
    "Kettering",
    "Lindqvist",
    "Marchetti",
    "Nakamura",
    "Okonkwo",
    "Pemberton",
    "Quimby",
    "Rasmussen",
    "Søndergaard",
    "Van der Berg",
];
const DEPARTMENTS: [(&str, &str); 5] = [
    ("Production       ", "Production Technician I"),
    ("IT/IS", "Network Engineer"),
    ("Sales", "Area Sales Manager"),
    ("Software Engineering", "Software Engineer"),
    ("Admin Offices", "Administrative Assistant"),
];

/// The first employee id of the fictional export (distinct from the public sample's ids).
pub const FIRST_ID: u64 = 20001;

fn pick<T: Copy>(list: &[T], n: u64, salt: u64) -> T {
    let mixed = n
        .wrapping_mul(6364136223846793005)
        .wrapping_add(salt)
        .rotate_left(17);
    list[(mixed % list.len() as u64) as usize]
}

/// One HR row for employee number `i` (0-based) of `total`.
pub fn hr_row(i: u64, total: u64) -> Vec<String> {
    let id = FIRST_ID + i;
    let given = pick(&GIVEN, i, 1);
    let surname = pick(&SURNAMES, i, 7);
    let initial = if i.is_multiple_of(3) {
        format!("  {}", (b'A' + (i % 26) as u8) as char)
    } else {
        String::new()
    };
    // irregular spacing, as real exports have
    let name = if i.is_multiple_of(5) {
        format!("{surname},{given}{initial}")
    } else {
        format!("{surname}, {given}{initial} ")
    };
    let terminated = i % 3 == 2;
    let (department, position) = pick(&DEPARTMENTS, i, 3);
    let manager_index = if i < 5 { (i + 1) % total.max(1) } else { i % 5 };
    let manager = format!(
        "{} {}",
        pick(&GIVEN, manager_index, 1),
        pick(&SURNAMES, manager_index, 7)
    );
    let hire = format!("{}/{}/{}", 1 + i % 12, 1 + i % 28, 2008 + i % 15);
    let termination = if terminated {
        format!("{}/{}/{}", 1 + (i + 4) % 12, 1 + (i + 9) % 28, 2023)
    } else {
        String::new()
    };
    let status = if terminated {
        "Voluntarily Terminated"
    } else {
        "Active"
    };
    [
        name,
        id.to_string(),
        "0".into(),
        "0".into(),
        (i % 2).to_string(),
        "1".into(),
        "5".into(),
        "3".into(),
        "0".into(),
        (48_000 + (i * 37) % 60_000).to_string(),
        u8::from(terminated).to_string(),
        "19".into(),
        position.into(),
        "MA".into(),
        format!("{:05}", 1000 + i % 9000),
        "01/01/1985".into(),
        if i.is_multiple_of(2) { "F" } else { "M " }.into(),
        "Single".into(),
        "US Citizen".into(),
        "No".into(),
        "White".into(),
        hire,
        termination,
        if terminated {
            "career change"
        } else {
            "N/A-StillEmployed"
        }
        .into(),
        status.into(),
        department.into(),
        manager,
        (i % 5).to_string(),
        "LinkedIn".into(),
        "Fully Meets".into(),
        "4.5".into(),
        "4".into(),
        "0".into(),
        "1/17/2019".into(),
        "0".into(),
        (i % 20).to_string(),
    ]
    .to_vec()
}

/// The existing-accounts list: a few accounts of the fictional employees (with their real
/// mail address and phone number) and one account of nobody in HR.
pub fn account_rows(total: u64) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = (0..total.min(40))
        .filter(|i| i.is_multiple_of(4))
        .map(|i| {
            let given = pick(&GIVEN, i, 1).to_lowercase();
            let login = format!("{}{}", given.chars().next().unwrap_or('x'), FIRST_ID + i);
            let id = format!("{}", FIRST_ID + i);
            vec![
                login.clone(),
                id,
                format!("{login}@corp.example.test"),
                format!("+1 555 01{:02}", i % 100),
            ]
        })
        .collect();
    rows.push(vec![
        "svc-backup".into(),
        "99999".into(),
        "svc-backup@corp.example.test".into(),
        String::new(),
    ]);
    rows
}

/// The account-list columns.
pub const ACCOUNT_COLUMNS: [&str; 4] = ["login", "employeeNumber", "mail", "telephoneNumber"];
