//! `wsmon serve` at the binary's edge: start the server, say what it does, and sum up what it
//! saw when it stops.

use crate::server::{ServeOptions, Server};

/// Runs `wsmon serve` until Ctrl-C or SIGTERM.
pub(super) async fn serve(opts: ServeOptions) -> anyhow::Result<()> {
    let server = Server::start(opts.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}:{}: {e}", opts.bind, opts.port))?;
    let mut features = Vec::new();
    if let Some(t) = opts.tick {
        features.push(format!("tick every {}", crate::text::duration(t)));
    }
    if opts.flood > 0 {
        features.push(format!("flood {} x {} B", opts.flood, opts.flood_size));
    }
    if let Some(d) = opts.drop_after {
        features.push(format!("drop after {}", crate::text::duration(d)));
    }
    if let Some(s) = opts.reject {
        features.push(format!("reject with {s}"));
    }
    if opts.no_pong {
        features.push("no pongs".into());
    } else if let Some(d) = opts.pong_delay {
        features.push(format!("pongs delayed {}", crate::text::duration(d)));
    }
    let echo = match (opts.demo, opts.no_echo) {
        (true, true) => {
            "the demo scenario: ticks, quotes, binary frames, drops, a 503 on every fourth connection; no echo"
        }
        (true, false) => {
            "the demo scenario: ticks, quotes, binary frames, drops, a 503 on every fourth connection; echo"
        }
        (false, true) => "no echo",
        (false, false) => "echo",
    };
    println!(
        "wsmon serve: listening on {} ({echo}{}{}); Ctrl-C stops",
        server.url(),
        if features.is_empty() { "" } else { ", " },
        features.join(", ")
    );
    let mut server = server;
    let stats = server.stats();
    tokio::select! {
        _ = crate::signals::wait_for_stop() => {
            println!("wsmon serve: stopping");
            server.kill().await;
        }
        _ = server.finished() => println!("wsmon serve: the one connection (--once) ended"),
    }
    println!("wsmon serve: served {}", stats.summary());
    Ok(())
}
