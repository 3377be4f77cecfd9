//! What went wrong, as facts: which check failed and the values it saw. The engine never puts
//! a failure in words; wsmon's `describe` does, so one place owns every sentence a person
//! reads and a frontend may word a fact its own way (a metric label, a short pane line).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::event::Phase;

mod app;

pub use app::AppProblem;

/// What a failed dial or a broken connection ran into. Where a value comes from outside
/// wsmon (an OS error, a header, a library's error) it is kept as that text.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Problem {
    /// The resolver says the host does not exist.
    NoSuchHost {
        /// The name looked up.
        host: String,
    },
    /// The resolver did not answer (a temporary failure).
    DnsUnanswered {
        /// The name looked up.
        host: String,
    },
    /// The lookup failed otherwise.
    DnsFailed {
        /// The name looked up.
        host: String,
        /// The resolver's error.
        error: String,
    },
    /// The lookup answered with no address.
    NoAddresses {
        /// The name looked up.
        host: String,
    },
    /// The TCP connect was refused (RST): nothing listens.
    ConnectRefused {
        /// The last address tried.
        addr: SocketAddr,
        /// How many addresses were tried.
        tried: usize,
    },
    /// The TCP connect got no answer in its share of the time.
    ConnectUnanswered {
        /// The last address tried.
        addr: SocketAddr,
        /// How many addresses were tried.
        tried: usize,
    },
    /// The TCP connect failed otherwise.
    ConnectFailed {
        /// The last address tried.
        addr: SocketAddr,
        /// How many addresses were tried.
        tried: usize,
        /// The OS's error.
        error: String,
    },
    /// A problem on the way to the HTTP proxy (its lookup, connect or request).
    AtProxy {
        /// The proxy.
        proxy: ProxyName,
        /// What happened there.
        problem: Box<Problem>,
    },
    /// A socket error, as the OS words it.
    Io {
        /// The OS's error.
        error: String,
    },
    /// The proxy answered CONNECT with a status other than 2xx (`Failure::http` holds it).
    ProxyRefused {
        /// The proxy.
        proxy: ProxyName,
        /// Whether its URL carried credentials.
        credentials: bool,
    },
    /// The server (or the proxy) did not answer with a whole HTTP head.
    BadAnswer {
        /// The proxy, or `None` for the server.
        proxy: Option<ProxyName>,
        /// What was wrong with it.
        how: BadHead,
    },
    /// Writing the upgrade request failed.
    SendRequest {
        /// The OS's error.
        error: String,
    },
    /// The server answered the upgrade with a status other than 101 (`Failure::http`).
    UpgradeRefused,
    /// A 101 without `Upgrade: websocket`.
    NoUpgradeHeader,
    /// A 101 without `Connection: upgrade`.
    NoConnectionHeader,
    /// A 101 without `Sec-WebSocket-Accept`.
    NoAcceptHeader,
    /// A 101 whose `Sec-WebSocket-Accept` does not match the key sent.
    WrongAccept {
        /// What the server sent.
        got: String,
        /// What the key gives.
        expected: String,
    },
    /// The server enabled an extension wsmon did not offer.
    UnofferedExtension {
        /// The header's value.
        extension: String,
    },
    /// The server chose a subprotocol wsmon did not offer.
    UnofferedSubprotocol {
        /// The one chosen (a secret masked).
        chosen: String,
        /// The ones offered (secrets masked).
        offered: Vec<String>,
    },
    /// The host cannot be a TLS server name.
    BadServerName {
        /// The host.
        host: String,
        /// rustls's error.
        error: String,
    },
    /// The TLS settings could not be built (the `--ca` file).
    TlsSetup {
        /// What is wrong with them.
        error: String,
    },
    /// The TLS handshake failed.
    Tls {
        /// The host the certificate had to be for.
        host: String,
        /// How.
        problem: TlsProblem,
    },
    /// A dial phase ran out of `connect_timeout`.
    DialTimeout {
        /// The phase it ran out in.
        phase: Phase,
        /// `connect_timeout`.
        limit: Duration,
        /// The proxy, when the phase was on the way to it.
        proxy: Option<ProxyName>,
    },
    /// The server sent a close frame no peer may send; wsmon answered 1002.
    BadClose {
        /// Its code, if it had one.
        code: Option<u16>,
        /// Whether the code is one a peer may send (then the reason was not UTF-8).
        code_allowed: bool,
        /// Its reason's bytes.
        reason: Vec<u8>,
    },
    /// No frame came within `pong_timeout` of a ping.
    NoPong {
        /// `pong_timeout`.
        limit: Duration,
        /// Whether any ping on this connection was answered.
        answered: bool,
        /// How long the connection had been open.
        uptime: Duration,
    },
    /// No message matching `app_pong` came within `pong_timeout` of `app_ping`.
    NoAppPong {
        /// `pong_timeout`.
        limit: Duration,
        /// `app_pong`.
        pattern: String,
        /// `app_ping`.
        ping: String,
    },
    /// The socket took none of wsmon's bytes for `pong_timeout`.
    WriteStall {
        /// `pong_timeout`.
        limit: Duration,
        /// Messages waiting to be written.
        waiting: usize,
    },
    /// The connection ended without a close frame.
    NoCloseFrame,
    /// The server dropped the TCP connection without a close frame.
    DroppedWithoutClose,
    /// A socket error on an open connection, as the OS words it.
    Socket {
        /// The OS's error.
        error: String,
    },
    /// The peer reset the connection (TCP RST).
    Reset,
    /// Writing failed: the peer is gone.
    BrokenPipe,
    /// The connection ended in the middle of a frame.
    EndedMidFrame,
    /// An incoming message was larger than `max_message_size` (1009 sent).
    TooLarge {
        /// Its size.
        size: usize,
        /// `max_message_size`.
        max: usize,
    },
    /// A capacity limit other than the message's size (1009 sent).
    Capacity {
        /// tungstenite's error.
        error: String,
    },
    /// A text message that is not UTF-8 (1007 sent).
    BadUtf8 {
        /// Where it broke.
        detail: String,
    },
    /// The server broke the WebSocket protocol (1002 sent).
    ProtocolViolation {
        /// tungstenite's error.
        detail: String,
    },
    /// The application protocol of a preset failed or its heartbeat stopped.
    App(Box<AppProblem>),
    /// The engine for this endpoint stopped on a bug (`Event::Crashed`), with its panic.
    EngineStopped {
        /// The panic's message.
        panic: String,
    },
    /// A failure read back from a recording, in the words it was recorded with.
    Recorded {
        /// Its message.
        message: String,
        /// Its fix, if one was recorded.
        fix: Option<String>,
    },
}

/// An HTTP proxy as a failure names it: its URL (credentials masked) and where it was set.
#[derive(Clone, Debug, PartialEq)]
pub struct ProxyName {
    /// Its URL, credentials masked.
    pub shown: String,
    /// Where it was set (`HTTPS_PROXY`, `--proxy`), or empty.
    pub source: String,
}

/// What was wrong with an HTTP answer's head.
#[derive(Clone, Debug, PartialEq)]
pub enum BadHead {
    /// Reading it failed.
    Io(String),
    /// The connection closed after this many bytes (0: no answer at all).
    Closed(usize),
    /// Headers over 16 KiB.
    TooLarge,
    /// Not HTTP at all: the start of what came.
    NotHttp(String),
}

/// How a TLS handshake failed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TlsProblem {
    /// The server answered with something that is not TLS.
    NotTls,
    /// The server closed the connection during the handshake.
    ClosedInHandshake,
    /// The server sent an alert (its name).
    Alert(String),
    /// No version or cipher in common (rustls's reason).
    Incompatible(String),
    /// Another handshake error, as rustls words it.
    Handshake(String),
    /// A self-signed certificate not trusted here.
    SelfSigned,
    /// A chain from a CA not trusted here (the top certificate's issuer).
    UnknownCa(String),
    /// Expired; when, in Unix seconds, if known, and when it was checked.
    Expired {
        /// The certificate's `notAfter`.
        until: Option<i64>,
        /// The time of the check.
        now: i64,
    },
    /// Not valid yet; from when, if known, and when it was checked.
    NotValidYet {
        /// The certificate's `notBefore`.
        from: Option<i64>,
        /// The time of the check.
        now: i64,
    },
    /// Not for this host: the names it holds (`None`: not known, empty: none at all).
    WrongName(Option<Vec<String>>),
    /// Revoked.
    Revoked,
    /// A bad signature.
    BadSignature,
    /// Not correctly encoded.
    BadEncoding,
    /// Not meant for TLS servers.
    NotForServers,
    /// Not meant for TLS servers: no serverAuth usage.
    NoServerAuth,
    /// A server certificate used as a CA in the chain.
    ServerCertAsCa,
    /// The `--ca` file does not sign the chain.
    NotInCaFile(Box<NotInCaFile>),
    /// Refused for a reason wsmon has no words for (the error's name).
    Rejected(String),
}

/// Why a chain does not lead to a certificate in the `--ca` file.
#[derive(Clone, Debug, PartialEq)]
pub struct NotInCaFile {
    /// The file.
    pub file: PathBuf,
    /// The subjects of the certificates it holds.
    pub holds: Vec<String>,
    /// How the chain misses it.
    pub miss: ChainMiss,
}

/// How a chain misses the `--ca` file.
#[derive(Clone, Debug, PartialEq)]
pub enum ChainMiss {
    /// The server's certificate is self-signed and not the one in the file.
    SelfSigned {
        /// Its subject.
        subject: String,
        /// Whether the file holds one with the same name (regenerated?).
        same_name: bool,
    },
    /// The chain names a certificate of the file as issuer, but another key signed it.
    WrongKey {
        /// The issuer's name.
        issuer: String,
    },
    /// The server sends only its own certificate, by an issuer not in the file.
    OnlyLeaf {
        /// The issuer's name.
        issuer: String,
    },
    /// The chain ends at a certificate whose issuer is not in the file.
    EndsAt {
        /// The top certificate's subject.
        subject: String,
        /// Its issuer.
        issuer: String,
    },
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_problem_stays_small() {
        // A failure travels in every `End` of a connection; what is rare and large is boxed.
        assert!(
            std::mem::size_of::<super::Problem>() <= 80,
            "{}",
            std::mem::size_of::<super::Problem>()
        );
    }
}
