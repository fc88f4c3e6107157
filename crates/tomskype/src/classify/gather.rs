//! Stage 5, classify: the evidence and advisories one host's view shows. Each indicator match
//! becomes evidence weighed by its basis ([`super::weigh`]), the strongest match per
//! indicator kept; Skype's own protocols and the China rule add theirs; advisories say what
//! does not change the label.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::{
    round3, text_order, weigh, Advisory, Evidence, NAMED_OTHERWISE, OUT_OF_VALIDITY,
    SKYPE_PROTOCOL_CLASSIC_TCP, SKYPE_PROTOCOL_CLASSIC_UDP, SKYPE_PROTOCOL_MS_STUN, SKYPE_TO_CHINA,
    SPECIFIC_SKYPE_SIGN, TOM_YEARS,
};
use crate::enrich::{Basis, Endpoint, HostView, Via};
use crate::flow::key::PortName;
use crate::flow::SkypeProtocol;
use crate::knowledge::geoip::Country;
use crate::knowledge::indicators::{Indicator, Matcher, Role};
use crate::timefmt;

/// What a host's view shows, before any verdict.
pub(super) struct Gathered {
    /// The evidence, strongest first.
    pub evidence: Vec<Evidence>,
    /// Advisories.
    pub advisories: Vec<Advisory>,
    /// Distinct TOM server addresses the host contacted itself (firm, weight ≥ 0.3).
    pub tom_servers: BTreeSet<IpAddr>,
}

/// The evidence and advisories of one host (see the module documentation).
pub(super) fn gather(host: &HostView<'_>) -> Gathered {
    let mut best = Best::default();
    let mut advisories = Vec::new();
    let mut skype_to_china: Option<Evidence> = None;
    let mut tom_servers = BTreeSet::new();
    // A resolver's lookups are its clients'.
    let resolver = host.dns_clients > 0;
    for e in &host.endpoints {
        endpoint_evidence(e, resolver, &mut best, &mut tom_servers);
        if skype_to_china.is_none() {
            skype_to_china = china_rule(e);
        }
        advisories.extend(peer_in_china(e));
    }
    for q in host.queries.iter().filter(|q| !q.explained) {
        let basis = if q.relayed {
            Basis::Relayed
        } else {
            relayed_if(resolver, Basis::LookupOnly)
        };
        for ind in &q.matches {
            best.keep(evidence(
                ind,
                "name",
                basis,
                Some(q.name.clone()),
                None,
                None,
                q.first_ns,
                0,
            ));
        }
    }
    let mut evidence: Vec<Evidence> = best.0.into_values().collect();
    evidence.extend(skype_to_china);
    evidence.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.indicator.cmp(&b.indicator))
            .then_with(|| text_order(&a.endpoint, &b.endpoint))
    });
    advise(&evidence, &mut advisories);
    Gathered {
        evidence,
        advisories,
        tom_servers,
    }
}

/// The strongest match per indicator (see [`evidence_key`] and [`better`]).
#[derive(Default)]
struct Best(BTreeMap<String, Evidence>);

impl Best {
    /// Keeps `ev` if it is the first or a better match of its key.
    fn keep(&mut self, ev: Evidence) {
        match self.0.entry(evidence_key(&ev)) {
            // The strongest match; of equal ones, one that names its server, then the first seen.
            Entry::Occupied(mut slot) if better(&ev, slot.get()) => {
                slot.insert(ev);
            }
            Entry::Occupied(_) => {}
            Entry::Vacant(slot) => {
                slot.insert(ev);
            }
        }
    }
}

/// `basis`, or `relayed` for a resolver's lookups (they are its clients').
fn relayed_if(resolver: bool, basis: Basis) -> Basis {
    if resolver && basis == Basis::LookupOnly {
        Basis::Relayed
    } else {
        basis
    }
}

/// The evidence of one endpoint's indicator matches and Skype protocols, into `best`; the
/// endpoint's address into `tom_servers` when it is a TOM server the host contacted itself.
fn endpoint_evidence(
    e: &Endpoint<'_>,
    resolver: bool,
    best: &mut Best,
    tom_servers: &mut BTreeSet<IpAddr>,
) {
    let named_otherwise = is_named_otherwise(e);
    for m in &e.matches {
        let ind = m.indicator;
        let (matched, kind_suffix) = match &m.via {
            Via::Address => (None, "server"),
            Via::Name(n) => (Some(n.clone()), "name"),
            Via::Http(u) => (Some(u.clone()), "http"),
            Via::Port(proto, port) => (
                Some(
                    PortName {
                        proto: *proto,
                        port: *port,
                    }
                    .to_string(),
                ),
                "port",
            ),
        };
        let mut ev = evidence(
            ind,
            kind_suffix,
            relayed_if(resolver, m.basis),
            matched,
            Some(e.addr),
            e.country,
            m.first_ns,
            e.packets,
        );
        if named_otherwise && m.via == Via::Address && ind.role == Role::Tom && ev.weight > 0.0 {
            ev.weight = round3(ev.weight * NAMED_OTHERWISE);
            ev.firm = false;
            let names: Vec<&str> = own_names(e).take(3).collect();
            ev.detail.push_str(&format!(
                " [the endpoint is {}, not a Skype service]",
                names.join(", ")
            ));
        }
        if ev.firm && ev.kind == "tom-server" && ev.weight >= 0.3 {
            tom_servers.insert(e.addr);
        }
        best.keep(ev);
    }
    for (&proto, &first_ns) in &e.skype_protocols {
        best.keep(protocol_evidence(e, proto, first_ns));
    }
}

/// A peer in China, reached directly over UDP with no name and no indicator: what a Skype call
/// with a contact in China looks like (kept only where Skype itself was seen: [`advise`]).
fn peer_in_china(e: &Endpoint<'_>) -> Option<Advisory> {
    let p2p = e
        .ports
        .iter()
        .any(|&(proto, port)| proto == 17 && port >= 1024);
    (e.country == Some(Country::CHINA) && p2p && e.names.is_empty() && e.matches.is_empty()).then(
        || Advisory {
            kind: "peer-in-china".into(),
            detail: "direct traffic with a peer in China: if this is a Skype contact, they may be using TOM-Skype, whose side logs the chat".into(),
            endpoint: Some(e.addr),
        },
    )
}

/// Completes the advisories once the evidence is known: a browser on TOM's Skype pages
/// (`tom-web-visit`); the `peer-in-china` advisories only where Skype itself was seen.
fn advise(evidence: &[Evidence], advisories: &mut Vec<Advisory>) {
    if let Some(visit) = super::tom_web_visit(evidence) {
        advisories.push(Advisory {
            kind: "tom-web-visit".into(),
            detail: format!(
                "a web browser on this machine opened TOM-Skype's web pages ({}): a visit, not the TOM-Skype client running; if TOM-Skype was downloaded here, check the installed programs",
                visit.matched.as_deref().unwrap_or("skype.tom.com")
            ),
            endpoint: visit.endpoint,
        });
    }
    let skype_seen = evidence
        .iter()
        .any(|e| e.kind.starts_with("skype-") && e.firm && e.weight > 0.0);
    if !skype_seen {
        advisories.retain(|a| a.kind != "peer-in-china");
    }
}

/// The names the host itself produced for an endpoint (not answers nobody asked for).
fn own_names<'e>(e: &'e Endpoint<'_>) -> impl Iterator<Item = &'e str> {
    e.names
        .iter()
        .filter(|(_, n)| n.is_own())
        .map(|(name, _)| name.as_str())
}

/// An endpoint known by the host's own names (its lookups, server names, Host headers), none
/// of them a Skype or TOM service: a TOM address indicator on it is explained by what the
/// names are (TOM's web portal, a shared host), so it counts for little. Names from answers
/// nobody asked for are not the host's and cannot trigger this (a forger would use it to hide
/// a TOM server); a proxy's names are where clients went through it, not what it is.
fn is_named_otherwise(e: &Endpoint<'_>) -> bool {
    !e.proxy
        && own_names(e).next().is_some()
        && !e
            .matches
            .iter()
            .any(|m| matches!(m.via, Via::Name(_) | Via::Http(_)) && m.basis != Basis::Unsolicited)
}

/// "Skype-related traffic to an endpoint in China": within TOM-Skype's years, to a server the
/// host contacted itself (not through a proxy), tied to Skype by a specific sign of the host's
/// own (a Skype name it used or a Skype server address, not a port: peers on Skype's P2P
/// ports are people, see the `peer-in-china` advisory).
fn china_rule(e: &Endpoint<'_>) -> Option<Evidence> {
    if e.country != Some(Country::CHINA) || !e.contacted() || e.proxy {
        return None;
    }
    let year = timefmt::year(e.first_ns)?;
    if year < TOM_YEARS.0 || year > TOM_YEARS.1 {
        return None;
    }
    let why: Vec<&str> = e
        .matches
        .iter()
        .filter(|m| {
            m.indicator.role == Role::Skype
                && m.indicator.weight >= SPECIFIC_SKYPE_SIGN
                && matches!(
                    m.basis,
                    Basis::Request | Basis::ServerName | Basis::LookupAndContact | Basis::Contacted
                )
        })
        .map(|m| m.indicator.id.as_str())
        .collect();
    if why.is_empty() {
        return None;
    }
    Some(Evidence {
        kind: "skype-to-china".into(),
        indicator: None,
        detail: format!(
            "Skype-related traffic to a server in China in TOM-Skype's years ({})",
            why.join(", ")
        ),
        weight: SKYPE_TO_CHINA,
        indicator_weight: SKYPE_TO_CHINA,
        basis: Basis::Contacted,
        firm: false,
        endpoint: Some(e.addr),
        country: e.country,
        matched: None,
        source: None,
        first_ns: Some(e.first_ns),
        packets: e.packets,
        in_validity: true,
        clients: Vec::new(),
    })
}

/// Whether `a` shows an indicator's match better than `b`: stronger; or as strong and firm
/// where `b` is soft; or as strong and with a server where `b` has none; or else seen earlier.
/// A total order, so the choice does not depend on the order matches come in.
fn better(a: &Evidence, b: &Evidence) -> bool {
    let key = |e: &Evidence| {
        (
            !e.firm,
            e.endpoint.is_none(),
            e.first_ms(),
            e.endpoint.map(|a| a.to_string()),
            e.matched.clone(),
            e.basis,
        )
    };
    a.weight > b.weight || (a.weight == b.weight && key(a) < key(b))
}

/// Key under which the strongest match of an indicator is kept: notes (`not-evidence`) are
/// kept per endpoint, since each is worth showing; signs without an indicator (Skype's
/// protocols) per kind and what they matched.
fn evidence_key(ev: &Evidence) -> String {
    let id = ev.indicator.as_deref().unwrap_or("");
    if ev.kind == "not-evidence" {
        match ev.endpoint {
            Some(a) => format!("{id}@{a}"),
            None => format!("{id}@"),
        }
    } else if ev.indicator.is_none() {
        format!("{}:{}", ev.kind, ev.matched.as_deref().unwrap_or(""))
    } else {
        id.to_owned()
    }
}

/// "Skype's own protocol on a flow with this endpoint" (`skype-protocol`): Skype presence,
/// either client. Firm when the host contacted the endpoint; when it only received (a
/// one-way mirror), the sign still counts in full for Skype presence, which accuses no one,
/// but cannot back a TOM label.
fn protocol_evidence(e: &Endpoint<'_>, proto: SkypeProtocol, first_ns: i64) -> Evidence {
    let (weight, what) = match proto {
        SkypeProtocol::MsStun => (
            SKYPE_PROTOCOL_MS_STUN,
            "Microsoft's STUN attributes (MS-ICE2/MS-TURN), as Skype and Teams calls send them",
        ),
        SkypeProtocol::ClassicTcp => (
            SKYPE_PROTOCOL_CLASSIC_TCP,
            "Skype's classic TCP framing at a connection's start",
        ),
        SkypeProtocol::ClassicUdp => (
            SKYPE_PROTOCOL_CLASSIC_UDP,
            "Skype's classic UDP framing on most of a flow's datagrams",
        ),
    };
    let contacted = e.contacted();
    let mut detail = what.to_owned();
    if !contacted {
        detail.push_str(" [only received: the host did not open the flow]");
    }
    Evidence {
        kind: "skype-protocol".into(),
        indicator: None,
        detail,
        weight,
        indicator_weight: weight,
        basis: if contacted {
            Basis::Contacted
        } else {
            Basis::ReceivedOnly
        },
        firm: contacted,
        endpoint: Some(e.addr),
        country: e.country,
        matched: Some(proto.name().to_owned()),
        source: None,
        first_ns: Some(first_ns),
        packets: e.packets,
        in_validity: true,
        clients: Vec::new(),
    }
}

/// What one basis means, for the detail line.
fn basis_note(basis: Basis) -> Option<&'static str> {
    match basis {
        Basis::Request | Basis::Contacted | Basis::Port => None,
        Basis::ServerName => Some("a TLS server name it sent: a contact, not a request only the client makes"),
        Basis::LookupAndContact => Some("a name it looked up and then contacted: a contact, not a request only the client makes"),
        Basis::LookupOnly => Some("only looked up: any web page can cause a lookup"),
        Basis::Visit => Some("a web browser's visit, not counted"),
        Basis::Relayed => Some("relayed for another machine, not counted"),
        Basis::Unsolicited => Some("named only by a DNS answer it never asked for: anyone can send one"),
        Basis::ReceivedOnly => Some("the host never contacted this address: anyone can send packets from it"),
    }
}

#[allow(clippy::too_many_arguments)]
fn evidence(
    ind: &Indicator,
    kind_suffix: &str,
    basis: Basis,
    matched: Option<String>,
    endpoint: Option<IpAddr>,
    country: Option<Country>,
    first_ns: i64,
    packets: u64,
) -> Evidence {
    let kind = match ind.role {
        Role::NotEvidence => "not-evidence".to_owned(),
        Role::Tom => format!("tom-{kind_suffix}"),
        Role::TomWeb => format!("tom-web-{kind_suffix}"),
        Role::Skype => format!("skype-{kind_suffix}"),
    };
    let year = timefmt::year(first_ns);
    let in_validity = year.is_none_or(|y| ind.valid.contains(y));
    let is_address = matches!(ind.matcher, Matcher::Ip(_) | Matcher::Net(_));
    let (factor, mut firm) = weigh(basis, ind.role);
    let mut weight = match ind.role {
        Role::NotEvidence => 0.0,
        _ => ind.weight * factor,
    };
    let mut detail = ind.description.clone();
    if let Some(note) = basis_note(basis) {
        detail.push_str(&format!(" [{note}]"));
    }
    if !in_validity {
        if is_address {
            weight *= OUT_OF_VALIDITY;
            firm = false;
        }
        detail.push_str(&format!(" [seen outside its validity {}]", ind.valid));
    }
    Evidence {
        kind,
        indicator: Some(ind.id.clone()),
        detail,
        weight: round3(weight),
        indicator_weight: ind.weight,
        basis,
        firm: firm && weight > 0.0 && ind.role != Role::NotEvidence,
        endpoint,
        country,
        matched,
        source: Some(ind.source.clone()),
        first_ns: Some(first_ns),
        packets,
        in_validity,
        clients: ind.clients.clone(),
    }
}
