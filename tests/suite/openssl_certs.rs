//! The engine against TLS servers whose certificates the `openssl` command line tool made, as
//! field engineers make them: a self-signed `req -x509` certificate (CA:TRUE), and a chain of
//! root, intermediate and leaf.

use crate::common;

use std::path::Path;

use common::pki::{openssl_chain, openssl_self_signed};
use common::{fast, first_dial};
use wsmon::engine::{Cause, Failure, Phase};
use wsmon::server::{ServeOptions, Server};

async fn tls_server(cert: &Path, key: &Path) -> Server {
    common::server(ServeOptions {
        tls: Some((cert.to_path_buf(), key.to_path_buf())),
        ..ServeOptions::default()
    })
    .await
}

/// What happens first when dialling `host` at `srv` trusting `ca`: the open, or the failure.
async fn first(srv: &Server, host: &str, ca: Option<&Path>) -> Result<(), Failure> {
    let mut s = fast(&format!("wss://{host}:{}/", srv.addr().port()));
    s.ca = ca.map(Path::to_path_buf);
    first_dial(s).await
}

/// No Rust structure in words meant for people.
fn plain(message: &str) {
    for debug in [
        "DnsName(",
        "Other(",
        "OtherError",
        "IpAddress(",
        "Some(",
        "{ ",
    ] {
        assert!(!message.contains(debug), "debug text in: {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_openssl_certificate_passed_with_ca_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = openssl_self_signed(dir.path(), "server", "localhost");
    let srv = tls_server(&cert, &key).await;
    assert_eq!(first(&srv, "localhost", Some(&cert)).await, Ok(()));

    // The same certificate still has to name the host it is used for.
    let f = first(&srv, "127.0.0.1", Some(&cert)).await.unwrap_err();
    assert_eq!((f.cause, f.phase), (Cause::Tls, Phase::Tls));
    assert_eq!(
        wsmon::describe::message(&f),
        "certificate is for localhost, not 127.0.0.1"
    );
    plain(&wsmon::describe::message(&f));

    // Without --ca it is not trusted: said short, with what to do apart.
    let f = first(&srv, "localhost", None).await.unwrap_err();
    assert_eq!(
        wsmon::describe::message(&f),
        "untrusted self-signed certificate for localhost"
    );
    assert!(wsmon::describe::fix(&f).unwrap().contains("--ca"), "{f:?}");
    assert_eq!(f.chain.len(), 1, "the certificate presented is kept");
    assert_eq!(f.chain[0].subject, "CN=localhost");
    plain(&wsmon::describe::message(&f));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_different_self_signed_certificate_is_named_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = openssl_self_signed(dir.path(), "server", "localhost");
    let (other, _) = openssl_self_signed(dir.path(), "other", "localhost");
    let srv = tls_server(&cert, &key).await;
    let f = first(&srv, "localhost", Some(&other)).await.unwrap_err();
    assert_eq!(
        wsmon::describe::message(&f),
        "certificate for localhost not trusted by the --ca file"
    );
    let why = wsmon::describe::fix(&f).unwrap();
    assert!(
        why.contains("self-signed")
            && why.contains("other.pem")
            && why.contains("pass the server's own certificate"),
        "{why}"
    );
    plain(&why);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_is_explained_against_the_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_chain(d, "localhost");
    let root = d.join("root.pem");
    let key = d.join("leaf.key");

    // The server sends its intermediate: trusted through the root.
    let full = d.join("full.pem");
    let mut chain = std::fs::read(d.join("leaf.pem")).unwrap();
    chain.extend(std::fs::read(d.join("inter.pem")).unwrap());
    std::fs::write(&full, chain).unwrap();
    let srv = tls_server(&full, &key).await;
    assert_eq!(first(&srv, "localhost", Some(&root)).await, Ok(()));

    // A CA file holding some other CA: the chain is not signed by it.
    let (stranger, _) = openssl_self_signed(d, "stranger", "Stranger CA");
    let f = first(&srv, "localhost", Some(&stranger)).await.unwrap_err();
    let why = wsmon::describe::fix(&f).unwrap();
    assert!(
        why.contains("ends at `CN=Field Intermediate CA`, issued by `CN=Field Root CA`")
            && why.contains("not signed by the CA in that file")
            && !why.contains("pass the CA"),
        "{why}"
    );
    assert_eq!(f.chain.len(), 2, "the leaf and the intermediate it sent");
    plain(&why);
    drop(srv);

    // The server sends only its own certificate: the missing intermediate is named.
    let srv = tls_server(&d.join("leaf.pem"), &key).await;
    let f = first(&srv, "localhost", Some(&root)).await.unwrap_err();
    let why = wsmon::describe::fix(&f).unwrap();
    assert!(
        why.contains("issued by `CN=Field Intermediate CA`, which is not in")
            && why.contains("does not send its intermediate certificates"),
        "{why}"
    );
    plain(&why);
}

/// The machine's trust store counts, as curl's does: a private root named by SSL_CERT_FILE
/// makes its chain trusted without --ca (the wsmon binary, so the variable is its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_in_the_system_trust_store_is_trusted_without_ca() {
    use common::bin::{Lines, wsmon};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl_chain(d, "localhost");
    let (stranger, _) = openssl_self_signed(d, "stranger", "Stranger CA");
    let full = d.join("full.pem");
    let mut chain = std::fs::read(d.join("leaf.pem")).unwrap();
    chain.extend(std::fs::read(d.join("inter.pem")).unwrap());
    std::fs::write(&full, chain).unwrap();
    let srv = tls_server(&full, &d.join("leaf.key")).await;
    let url = format!("wss://localhost:{}/", srv.addr().port());
    let first = |store: &Path| {
        let mut c = wsmon(&["--headless", "--max-attempts", "1", &url]);
        c.env("SSL_CERT_FILE", store);
        // No directory of certificates: only the file is the machine's store here.
        c.env("SSL_CERT_DIR", d.join("no-such-dir"));
        Lines::spawn_cmd(c)
    };

    let mut trusted = first(&d.join("root.pem"));
    let v = trusted
        .until("open or error", |v| {
            v["event"] == "open" || v["event"] == "error"
        })
        .await;
    assert_eq!(v["event"], "open", "trusted through SSL_CERT_FILE: {v}");
    drop(trusted);

    let mut refused = first(&stranger);
    let v = refused
        .until("open or error", |v| {
            v["event"] == "open" || v["event"] == "error"
        })
        .await;
    assert_eq!(v["event"], "error", "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("certificate for localhost from an unknown CA"),
        "{v}"
    );
}
