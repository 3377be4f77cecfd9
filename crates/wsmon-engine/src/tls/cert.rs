//! Just enough X.509 to explain a refused certificate: issuer, subject, validity. A small DER
//! walker, so naming a chain does not pull a certificate library into the binary.

/// What a certificate says about itself, borrowed from its DER.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct CertFacts<'a> {
    /// The issuer `Name`, as encoded (compared byte for byte with subjects).
    pub issuer: &'a [u8],
    /// The subject `Name`, as encoded.
    pub subject: &'a [u8],
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
    /// The extensions (`[3]`), as encoded; empty when there are none.
    pub extensions: &'a [u8],
}

impl<'a> CertFacts<'a> {
    /// Reads the facts of a DER certificate; `None` if it is not one.
    pub(super) fn parse(der: &'a [u8]) -> Option<CertFacts<'a>> {
        let (tag, cert, _) = tlv(der)?;
        expect(tag, SEQUENCE)?;
        let (tag, tbs, _) = tlv(cert)?;
        expect(tag, SEQUENCE)?;
        let mut rest = tbs;
        let (mut tag, mut body, mut after) = tlv(rest)?;
        if tag == 0xa0 {
            // [0] version
            rest = after;
            (tag, body, after) = tlv(rest)?;
        }
        expect(tag, 0x02)?; // serialNumber
        let _ = body;
        let (tag, _, after) = tlv(after)?; // signature algorithm
        expect(tag, SEQUENCE)?;
        let (tag, issuer, after) = tlv(after)?;
        expect(tag, SEQUENCE)?;
        let (tag, validity, after) = tlv(after)?;
        expect(tag, SEQUENCE)?;
        let (t1, before, v) = tlv(validity)?;
        let (t2, until, _) = tlv(v)?;
        let (tag, subject, after) = tlv(after)?;
        expect(tag, SEQUENCE)?;
        // subjectPublicKeyInfo, then the optional unique IDs ([1], [2]) and extensions ([3]).
        let mut extensions: &[u8] = &[];
        if let Some((_, _, mut rest)) = tlv(after) {
            while let Some((tag, body, next)) = tlv(rest) {
                if tag == 0xa3
                    && let Some((SEQUENCE, list, _)) = tlv(body)
                {
                    extensions = list;
                }
                rest = next;
            }
        }
        Some(CertFacts {
            issuer,
            subject,
            not_before: time(t1, before)?,
            not_after: time(t2, until)?,
            extensions,
        })
    }

    /// The names in its subjectAltName: DNS names as written, IP addresses in their usual form.
    pub(super) fn names(&self) -> Vec<String> {
        const SAN: &[u8] = &[0x55, 0x1d, 0x11];
        let mut out = Vec::new();
        let mut exts = self.extensions;
        while let Some((_, ext, rest)) = tlv(exts) {
            exts = rest;
            let Some((0x06, oid, mut after)) = tlv(ext) else {
                continue;
            };
            if oid != SAN {
                continue;
            }
            // An optional `critical` BOOLEAN before the OCTET STRING.
            if let Some((0x01, _, next)) = tlv(after) {
                after = next;
            }
            let Some((0x04, value, _)) = tlv(after) else {
                continue;
            };
            let Some((SEQUENCE, mut names, _)) = tlv(value) else {
                continue;
            };
            while let Some((tag, name, rest)) = tlv(names) {
                names = rest;
                match (tag, name.len()) {
                    (0x82, _) => out.push(String::from_utf8_lossy(name).into_owned()),
                    (0x87, 4) => out.push(
                        std::net::Ipv4Addr::new(name[0], name[1], name[2], name[3]).to_string(),
                    ),
                    (0x87, 16) => {
                        let mut b = [0u8; 16];
                        b.copy_from_slice(name);
                        out.push(std::net::Ipv6Addr::from(b).to_string());
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// Whether it names itself as its issuer.
    pub(super) fn self_issued(&self) -> bool {
        self.issuer == self.subject
    }
}

const SEQUENCE: u8 = 0x30;

/// A certificate the server presented, as a person reads it: who it names, who vouches for
/// it, for which hosts, for how long, and its SHA-256 fingerprint (to compare with
/// `openssl x509 -fingerprint -sha256`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CertInfo {
    /// `CN=api.example.com, O=Example`.
    pub subject: String,
    /// Who signed it, the same way.
    pub issuer: String,
    /// The hosts and addresses it is for (subjectAltName).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// Valid from, Unix seconds.
    pub not_before: i64,
    /// Valid until, Unix seconds.
    pub not_after: i64,
    /// SHA-256 of the DER, upper-case hex pairs joined with `:`.
    pub sha256: String,
}

impl CertInfo {
    /// What a DER certificate says; `None` if it is not one.
    pub fn of(der: &[u8]) -> Option<CertInfo> {
        let f = CertFacts::parse(der)?;
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        Some(CertInfo {
            subject: name_text(f.subject),
            issuer: name_text(f.issuer),
            names: f.names(),
            not_before: f.not_before,
            not_after: f.not_after,
            sha256: digest
                .as_ref()
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(":"),
        })
    }

    /// It names itself as its issuer (self-signed, or a root).
    pub fn self_issued(&self) -> bool {
        self.subject == self.issuer
    }

    /// Whole days from `now` (Unix seconds) until it expires; negative once it has.
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(86_400)
    }
}

fn expect(tag: u8, want: u8) -> Option<()> {
    (tag == want).then_some(())
}

/// One tag-length-value: the tag, the value, and what follows.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) as Unix seconds.
fn time(tag: u8, v: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(v).ok()?.strip_suffix('Z')?;
    // Digits only: a crafted certificate's time may hold anything, and slicing text that is
    // not ASCII at a byte offset would panic.
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match tag {
        0x17 if text.len() == 12 => {
            let yy: i64 = text.get(..2)?.parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, text.get(2..)?)
        }
        0x18 if text.len() == 14 => (text.get(..4)?.parse().ok()?, text.get(4..)?),
        _ => return None,
    };
    let n = |i: usize| rest.get(i..i + 2)?.parse::<i64>().ok();
    let (month, day, h, m, s) = (n(0)?, n(2)?, n(4)?, n(6)?, n(8)?);
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A `Name` as people write it: `CN=api.example.com, O=Example`; the attributes that name
/// things (CN, OU, O, L, ST, C), most specific first.
pub(super) fn name_text(name: &[u8]) -> String {
    const KNOWN: [(&[u8], &str); 6] = [
        (&[0x55, 0x04, 0x03], "CN"),
        (&[0x55, 0x04, 0x0b], "OU"),
        (&[0x55, 0x04, 0x0a], "O"),
        (&[0x55, 0x04, 0x07], "L"),
        (&[0x55, 0x04, 0x08], "ST"),
        (&[0x55, 0x04, 0x06], "C"),
    ];
    let mut found: Vec<(usize, String)> = Vec::new();
    let mut sets = name;
    while let Some((_, set, rest)) = tlv(sets) {
        sets = rest;
        let mut attrs = set;
        while let Some((_, attr, rest)) = tlv(attrs) {
            attrs = rest;
            let Some((0x06, oid, value)) = tlv(attr) else {
                continue;
            };
            let Some((_, text, _)) = tlv(value) else {
                continue;
            };
            if let Some(rank) = KNOWN.iter().position(|(o, _)| *o == oid) {
                let text = String::from_utf8_lossy(text);
                found.push((rank, format!("{}={}", KNOWN[rank].1, text)));
            }
        }
    }
    if found.is_empty() {
        return "(an unnamed subject)".to_string();
    }
    found.sort_by_key(|(rank, _)| *rank);
    found
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(time(0x17, b"260101000000Z"), Some(1_767_225_600));
        assert_eq!(time(0x18, b"20260101000000Z"), Some(1_767_225_600));
        assert_eq!(time(0x17, b"2601010000Z"), None);
    }

    #[test]
    fn facts_of_a_generated_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "wsmon test");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Field");
        params.not_before = rcgen::date_time_ymd(2025, 1, 2);
        params.not_after = rcgen::date_time_ymd(2030, 1, 2);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let facts = CertFacts::parse(cert.der()).expect("parses");
        assert!(facts.self_issued());
        assert_eq!(name_text(facts.subject), "CN=wsmon test, O=Field");
        assert_eq!(facts.not_before, days_from_civil(2025, 1, 2) * 86_400);
        assert_eq!(facts.not_after, days_from_civil(2030, 1, 2) * 86_400);
        assert_eq!(CertFacts::parse(b"\x30\x03\x02\x01\x00"), None);
        assert_eq!(facts.names(), ["localhost"]);
        let info = CertInfo::of(cert.der()).unwrap();
        assert_eq!(info.subject, "CN=wsmon test, O=Field");
        assert_eq!(info.names, ["localhost"]);
        assert_eq!(info.sha256.len(), 32 * 3 - 1);
        assert_eq!(info.days_left(days_from_civil(2029, 12, 30) * 86_400), 3);
        assert_eq!(info.days_left(days_from_civil(2030, 1, 5) * 86_400), -3);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A certificate a hostile server could send: names full of controls, escapes,
        /// right-to-left marks and wide characters, any validity.
        fn hostile_cert() -> impl Strategy<Value = (String, String, i32, i32, Vec<u8>)> {
            let name = "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202e}a-zé漢😀=, ]{0,40}";
            (name, name, 1950..2049i32, 1950..2049i32).prop_map(|(cn, org, from, to)| {
                let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
                params
                    .distinguished_name
                    .push(rcgen::DnType::CommonName, cn.clone());
                params
                    .distinguished_name
                    .push(rcgen::DnType::OrganizationName, org.clone());
                params.not_before = rcgen::date_time_ymd(from, 1, 2);
                params.not_after = rcgen::date_time_ymd(to, 12, 31);
                let key = rcgen::KeyPair::generate().unwrap();
                let der = params.self_signed(&key).unwrap().der().to_vec();
                (cn, org, from, to, der)
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

            #[test]
            fn hostile_names_are_read_and_every_cut_is_refused(
                (cn, org, from, to, der) in hostile_cert()
            ) {
                let facts = CertFacts::parse(&der).expect("a valid certificate parses");
                prop_assert!(facts.self_issued());
                let named = name_text(facts.subject);
                prop_assert!(named.contains(&format!("CN={cn}")), "{named}");
                prop_assert!(named.contains(&format!("O={org}")), "{named}");
                prop_assert_eq!(facts.not_before, days_from_civil(i64::from(from), 1, 2) * 86_400);
                prop_assert_eq!(facts.not_after, days_from_civil(i64::from(to), 12, 31) * 86_400);
                for cut in 0..der.len() {
                    prop_assert_eq!(CertFacts::parse(&der[..cut]), None, "cut at {}", cut);
                }
            }

            #[test]
            fn a_damaged_certificate_never_panics(
                (_, _, _, _, der) in hostile_cert(),
                damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            ) {
                let mut der = der;
                for (at, byte) in damage {
                    let i = at.index(der.len());
                    der[i] = byte;
                }
                if let Some(f) = CertFacts::parse(&der) {
                    let _ = (name_text(f.issuer), name_text(f.subject), f.self_issued());
                }
            }

            #[test]
            fn random_bytes_never_panic(der in prop::collection::vec(any::<u8>(), 0..600)) {
                if let Some(f) = CertFacts::parse(&der) {
                    let _ = (name_text(f.issuer), name_text(f.subject));
                }
                let _ = name_text(&der);
            }

            #[test]
            fn any_time_text_never_panics(
                tag in prop::sample::select(vec![0x17u8, 0x18, 0x00]),
                text in "[0-9]{10,14}Z|\\PC{0,16}",
                // Digits with one two-byte character among them, as long in bytes as a time.
                digits in "[0-9]{10}|[0-9]{12}",
                at in 0..12usize,
            ) {
                let _ = time(tag, text.as_bytes());
                let mut crafted = digits.clone();
                crafted.insert(at.min(digits.len()), 'é');
                crafted.push('Z');
                prop_assert_eq!(time(tag, crafted.as_bytes()), None);
            }
        }
    }
}
