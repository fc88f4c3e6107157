//! QUIC Initial decryption on real captures (the shared corpora, skipped with a notice when
//! absent) and on the generated QUIC-only sample: the server names read must be those that
//! Wireshark 4 (`tls.handshake.extensions_server_name`) shows for the same files.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use tomskype::capture;
use tomskype::flow::Tracker;

/// Every TLS server name the tracker read from `path`, and the count of malformed QUIC.
fn names(path: &Path) -> (BTreeSet<String>, u64) {
    let mut tracker = Tracker::new();
    capture::read_path(path, &mut tracker);
    let (table, stats) = tracker.into_parts();
    let names = table
        .facts
        .values()
        .flat_map(|f| f.sni.keys().cloned())
        .collect();
    (names, stats.app_malformed.quic)
}

#[test]
fn real_quic_captures_give_their_server_names() {
    let Some(corpora) = common::corpora() else {
        return;
    };
    let cases: [(&str, &[&str]); 8] = [
        // QUIC v2 (RFC 9369).
        ("ndpi/misc/quic-v2.pcapng", &["test"]),
        // Draft 29, over PPP.
        ("ndpi/misc/dlt_ppp.pcap", &["server4"]),
        // A ClientHello in several CRYPTO frames and Initial packets (Chromium 115).
        (
            "zeek/quic_chromium-115.0.5790.110-google-de-fragmented.pcap",
            &["www.google.de"],
        ),
        (
            "zeek/quic_firefox-102.13.0esr-blog-cloudflare-com.pcap",
            &["blog.cloudflare.com"],
        ),
        (
            "zeek/quic_quic_win11_firefox_google.pcap",
            &["www.google.com"],
        ),
        (
            "suricata-verify/quic-frag_input.pcap",
            &["token.services.mozilla.com"],
        ),
        // A post-quantum (Kyber) key share: the ClientHello spans two Initial packets.
        (
            "other/retina_quic_kyber.pcapng",
            &["encrypted-tbn0.gstatic.com"],
        ),
        ("ndpi/misc/quic_0RTT.pcap", &["ssl.gstatic.com"]),
    ];
    for (file, want) in cases {
        let (got, malformed) = names(&corpora.join(file));
        let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "{file}");
        assert_eq!(malformed, 0, "{file}");
    }
    // Cut by the snaplen: no name, and the Initial packets counted as malformed.
    let (got, malformed) = names(&corpora.join("tcpdump/curated/quic_handshake_truncated.pcap"));
    assert!(got.is_empty());
    assert!(malformed > 0);
}

#[test]
fn the_quic_only_sample_gives_its_names() {
    let path = common::root().join("captures/regular-skype-quic-only.pcapng");
    let (got, malformed) = names(&path);
    let want: BTreeSet<String> = [
        "api.skype.com",
        "config.edge.skype.com",
        "client-s.gateway.messenger.live.com",
        "www.example.org",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(got, want);
    assert_eq!(malformed, 0);
}
