//! Skype protocol recognition on the real corpora (../shared/corpora, skipped with a notice
//! when absent): the flows nDPI names Skype_TeamsCall in its Skype captures show Skype's
//! protocols here, and no flow of any other capture does (DNSCrypt, TeamSpeak, WebRTC STUN,
//! games, VPNs and the rest of the corpora are the false-positive test).

mod common;

use std::collections::BTreeMap;

use tomskype::capture::{self, expand_inputs};
use tomskype::flow::{SkypeProtocol, Tracker};

/// (file relative to the corpora, names of the protocols seen on any flow) for every capture
/// where a flow showed one.
fn protocols_per_file(corpora: &std::path::Path) -> BTreeMap<String, Vec<&'static str>> {
    let mut out = BTreeMap::new();
    let mut files = 0;
    for item in expand_inputs(&[corpora.to_path_buf()]) {
        let path = item.path().to_path_buf();
        if !capture::looks_like_capture(&path) {
            continue;
        }
        files += 1;
        let mut tracker = Tracker::new();
        capture::read_path(&path, &mut tracker);
        let (table, _) = tracker.into_parts();
        let mut seen: Vec<&'static str> = table
            .facts
            .keys()
            .flat_map(|k| table.skype_protocols(k))
            .map(SkypeProtocol::name)
            .collect();
        seen.sort_unstable();
        seen.dedup();
        if !seen.is_empty() {
            let rel = path.strip_prefix(corpora).unwrap_or(&path);
            out.insert(rel.to_string_lossy().into_owned(), seen);
        }
    }
    // The corpora hold some 250 captures: a walk that found few read the wrong folder.
    assert!(
        files > 100,
        "only {files} captures under {}",
        corpora.display()
    );
    out
}

#[test]
fn skype_protocols_only_where_skype_is() {
    let Some(corpora) = common::corpora() else {
        return;
    };
    let got = protocols_per_file(&corpora);
    let want: BTreeMap<String, Vec<&str>> = [
        (
            "ndpi/skype_teams/skype-conference-call.pcap",
            vec!["ms-stun"],
        ),
        (
            "ndpi/skype_teams/skype_no_unknown.pcap",
            vec!["classic-udp"],
        ),
        ("ndpi/skype_teams/skype_udp.pcap", vec!["classic-udp"]),
        (
            "ndpi/skype_teams/stun_msteams_unidir.pcapng",
            vec!["ms-stun"],
        ),
    ]
    .into_iter()
    .map(|(f, p)| (f.to_owned(), p))
    .collect();
    assert_eq!(got, want);
}
