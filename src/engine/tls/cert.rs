//! Just enough X.509 to explain a refused certificate: issuer, subject, validity. A small DER
//! walker, so naming a chain does not pull a certificate library into the binary.

/// What a certificate says about itself, borrowed from its DER.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CertFacts<'a> {
    /// The issuer `Name`, as encoded (compared byte for byte with subjects).
    pub issuer: &'a [u8],
    /// The subject `Name`, as encoded.
    pub subject: &'a [u8],
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
}

impl<'a> CertFacts<'a> {
    /// Reads the facts of a DER certificate; `None` if it is not one.
    pub fn parse(der: &'a [u8]) -> Option<CertFacts<'a>> {
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
        let (tag, subject, _) = tlv(after)?;
        expect(tag, SEQUENCE)?;
        Some(CertFacts {
            issuer,
            subject,
            not_before: time(t1, before)?,
            not_after: time(t2, until)?,
        })
    }

    /// Whether it names itself as its issuer.
    pub fn self_issued(&self) -> bool {
        self.issuer == self.subject
    }
}

const SEQUENCE: u8 = 0x30;

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
pub fn name_text(name: &[u8]) -> String {
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
    }
}
