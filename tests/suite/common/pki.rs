//! A throwaway CA and server certificates, written to a temp dir as PEM files.

use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// Files of a test PKI.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A CA and a leaf for `names`; `expired` puts the leaf's validity in the past.
pub fn pki(names: &[&str], expired: bool) -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "wsmon test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

    let mut leaf_params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, names[0]);
    if expired {
        leaf_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        leaf_params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();

    let ca_path = dir.path().join("ca.pem");
    let cert_path = dir.path().join("server.pem");
    let key_path = dir.path().join("server.key");
    std::fs::write(&ca_path, ca.pem()).unwrap();
    std::fs::write(&cert_path, leaf.pem()).unwrap();
    std::fs::write(&key_path, leaf_key.serialize_pem()).unwrap();
    Pki {
        dir,
        ca: ca_path,
        cert: cert_path,
        key: key_path,
    }
}

/// Runs the `openssl` command line tool in `dir`; the certificates a field engineer makes.
pub fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed (scripts/test installs it)");
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Arguments that make a new P-256 key, unencrypted.
const NEW_KEY: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
];

/// `openssl req -x509` with a new key: a self-signed certificate (marked CA:TRUE, as openssl
/// makes them) for `subject`, with `more` arguments.
fn req_x509(dir: &std::path::Path, cert: &str, key: &str, subject: &str, more: &[&str]) {
    let mut args = vec!["req", "-x509"];
    args.extend(NEW_KEY);
    args.extend(["-keyout", key, "-out", cert, "-days", "2", "-subj", subject]);
    args.extend(more);
    openssl(dir, &args);
}

/// `openssl req -x509`: a self-signed certificate for `name` (marked CA:TRUE, as openssl
/// makes them) and its key, as `FILE.pem` and `FILE.key` in `dir`.
pub fn openssl_self_signed(dir: &std::path::Path, file: &str, name: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (format!("{file}.pem"), format!("{file}.key"));
    req_x509(
        dir,
        &cert,
        &key,
        &format!("/CN={name}"),
        &["-addext", &format!("subjectAltName=DNS:{name}")],
    );
    (dir.join(cert), dir.join(key))
}

/// A root CA, an intermediate it signs, and a leaf for `name` the intermediate signs, made
/// with openssl in `dir`: `root.pem`, `inter.pem`, `leaf.pem`, `leaf.key`.
pub fn openssl_chain(dir: &std::path::Path, name: &str) {
    let req = |key: &str, out: &str, subj: &str| {
        let mut a = vec!["req", "-new"];
        a.extend(NEW_KEY);
        a.extend(["-keyout", key, "-out", out, "-subj", subj]);
        openssl(dir, &a);
    };
    req_x509(dir, "root.pem", "root.key", "/CN=Field Root CA", &[]);
    std::fs::write(
        dir.join("ca.ext"),
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("leaf.ext"),
        format!(
            "basicConstraints=CA:FALSE\nsubjectAltName=DNS:{name}\nextendedKeyUsage=serverAuth\n"
        ),
    )
    .unwrap();
    // A certificate for `file`.key's request, signed by the CA `by`.pem with extensions `ext`.
    let sign = |file: &str, by: &str, ext: &str| {
        let (csr, pem) = (format!("{file}.csr"), format!("{file}.pem"));
        let (ca, ca_key) = (format!("{by}.pem"), format!("{by}.key"));
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &ca,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                ext,
            ],
        );
    };
    req("inter.key", "inter.csr", "/CN=Field Intermediate CA");
    sign("inter", "root", "ca.ext");
    req("leaf.key", "leaf.csr", &format!("/CN={name}"));
    sign("leaf", "inter", "leaf.ext");
}
