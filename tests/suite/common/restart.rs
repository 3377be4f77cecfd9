//! Starting wsmon's server again on a port it just left (the suite's restarts and the
//! benchmark's, which includes this file).

use std::time::Duration;

use wsmon::server::{ServeOptions, Server};

/// wsmon's own server with `opts` started again on `port`, where a server of this process has
/// just been killed. A process spawned meanwhile (by another test) holds a copy of every file
/// descriptor of this process from its fork until its exec, the killed server's listener among
/// them: the port can stay taken for a few milliseconds after the kill on a busy machine, so a
/// bind that meets it is tried again, for up to 2 s.
pub async fn server_on(port: u16, opts: ServeOptions) -> Server {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let opts = ServeOptions {
            port,
            ..opts.clone()
        };
        match Server::start(opts).await {
            Ok(srv) => return srv,
            Err(e)
                if e.kind() == std::io::ErrorKind::AddrInUse
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(e) => panic!("a test server on port {port} again: {e}"),
        }
    }
}
